#define BOOST_TEST_MODULE ng911 GIS unit tests
#include <boost/test/unit_test.hpp>

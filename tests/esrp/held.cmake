# HELD dereference (location by reference, RFC 5985/6753): the ESRP's client against a test LIS
# run as a separate process (held_lis), over the real HTTP(S) path.
add_executable(held_lis ${CMAKE_CURRENT_SOURCE_DIR}/support/held_lis.cpp)
target_link_libraries(held_lis PRIVATE ng911_http ng911_ecrf pugixml Boost::program_options)
set_target_properties(held_lis PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)

ng911_boost_test(esrp_held_tests esrp/held_test.cpp)
target_link_libraries(esrp_held_tests PRIVATE ng911_esrp_routing)
# The schemas live beside the repository; a checkout without them skips the schema check.
target_compile_definitions(esrp_held_tests PRIVATE NG911_HELD_LIS="$<TARGET_FILE:held_lis>"
  NG911_STANDARDS_DIR="${CMAKE_SOURCE_DIR}/../shared/standards")
add_dependencies(esrp_held_tests held_lis)
ng911_add_suites(esrp_held_tests SUITES held_request held_response held_dereference)

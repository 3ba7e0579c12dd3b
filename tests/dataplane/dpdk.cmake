# The DPDK path (issue 6, dataplane/dpdk/). Root: the packet fixtures through ng911-dataplane-dpdk
# on net_pcap ports against the twin (verdicts, counters, forwarded bytes), a redirect to a second
# port, and live backend changes through the control socket (a pcap port on the loopback of a
# network namespace the test creates and removes).
if(TARGET ng911-dataplane-dpdk)
  pkg_check_modules(NG911_TEST_LIBPCAP REQUIRED IMPORTED_TARGET libpcap)
  # Paths from this file's own directory, so that it can be included from elsewhere too.
  ng911_boost_test(dataplane_dpdk_tests ${CMAKE_CURRENT_LIST_DIR}/fixtures.cpp ${CMAKE_CURRENT_LIST_DIR}/dpdk_test.cpp)
  target_include_directories(dataplane_dpdk_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
  target_link_libraries(dataplane_dpdk_tests PRIVATE ng911_dataplane PkgConfig::NG911_TEST_LIBPCAP)
  target_compile_definitions(dataplane_dpdk_tests PRIVATE NG911_DPDK_BIN="$<TARGET_FILE:ng911-dataplane-dpdk>")
  add_dependencies(dataplane_dpdk_tests ng911-dataplane-dpdk)
  ng911_add_suites(dataplane_dpdk_tests SUITES dataplane_dpdk)
  set_tests_properties(dataplane_dpdk_tests.dataplane_dpdk PROPERTIES TIMEOUT 300)
endif()

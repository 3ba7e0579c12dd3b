# The packet generator (issue 6). Until dataplane/CMakeLists.txt has add_subdirectory(gen), the
# generator is built from here; afterwards this only adds its tests.
if(NOT TARGET ng911-pktgen AND TARGET ng911_dataplane_core)
  add_subdirectory(${CMAKE_CURRENT_LIST_DIR}/../../dataplane/gen ${CMAKE_BINARY_DIR}/dataplane/gen)
endif()

if(TARGET ng911-pktgen)
  # Root: the generator's live frames into a veth with a counting receiver (counts per kind match
  # the mix), and its pcap file read back by tcpdump.
  add_test(NAME dataplane_gen
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/gen_test.sh $<TARGET_FILE:ng911-pktgen>)
  set_tests_properties(dataplane_gen PROPERTIES TIMEOUT 120)
endif()

# The packet generator (issue 6, dataplane/gen).
if(TARGET ng911-pktgen)
  # Root: the generator's live frames into a veth with a counting receiver (counts per kind match
  # the mix), its pcap file read back by tcpdump and replayed through DPDK into the veth.
  add_test(NAME dataplane_gen
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/gen_test.sh $<TARGET_FILE:ng911-pktgen>)
  set_tests_properties(dataplane_gen PROPERTIES TIMEOUT 120)
endif()

# The dataplane (issue 6): the XDP program and its user-space twin on packet fixtures, Maglev,
# the controller, and an end-to-end test through network namespaces.

# No privileges needed: the twin runs the kernel's pipeline code in user space; the classifier
# is checked against the stage-one one it replaced (stage1/, the oracle).
ng911_boost_test(dataplane_tests dataplane/fixtures.cpp dataplane/twin_test.cpp dataplane/maglev_test.cpp
  dataplane/classifier_equivalence_test.cpp dataplane/stage1/stage1_sip.c)
target_link_libraries(dataplane_tests PRIVATE ng911_dataplane)
ng911_add_suites(dataplane_tests SUITES dataplane_twin maglev classifier_equivalence)
set_source_files_properties(dataplane/stage1/stage1_sip.c PROPERTIES COMPILE_OPTIONS "-std=gnu11")

# Root: the same fixtures through the kernel (BPF_PROG_TEST_RUN), byte for byte against the twin.
ng911_boost_test(dataplane_xdp_tests dataplane/fixtures.cpp dataplane/xdp_test.cpp)
target_link_libraries(dataplane_xdp_tests PRIVATE ng911_dataplane)
ng911_add_suites(dataplane_xdp_tests SUITES dataplane_xdp)

# Root: namespaces and veths, ng911-dataplane with three backends: delivery, stickiness,
# distribution, failover, live drain/remove/add, stats and /metrics.
add_test(NAME dataplane_e2e
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/dataplane/e2e_test.sh $<TARGET_FILE:ng911-dataplane> ${NG911_BPF_DIR}/xdp_pass.bpf.o)
set_tests_properties(dataplane_e2e PROPERTIES TIMEOUT 180)

# Root: Call-ID steering of an SO_REUSEPORT group (kernel/ng911_steer.bpf.c) on real loopback
# sockets, against the twin's Call-ID hash.
ng911_boost_test(dataplane_steer_tests dataplane/steer_test.cpp)
target_link_libraries(dataplane_steer_tests PRIVATE ng911_dataplane_core)
ng911_add_suites(dataplane_steer_tests SUITES dataplane_steer)

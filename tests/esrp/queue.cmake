# PSAP queue state (emergency-QueueState): the NOTIFY body, and the ESRP's subscriptions against
# an in-process PSAP queue; then ng911-queue-watch against SIPp playing the PSAP queue.
ng911_boost_test(esrp_queue_tests esrp/queue_test.cpp)
target_link_libraries(esrp_queue_tests PRIVATE ng911_esrp_queue)
ng911_add_suites(esrp_queue_tests SUITES esrp_queue_body esrp_queue_monitor)

add_test(NAME esrp_queue_sipp COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/esrp/queue_sipp_test.sh $<TARGET_FILE:ng911-queue-watch>)
set_tests_properties(esrp_queue_sipp PROPERTIES TIMEOUT 120)

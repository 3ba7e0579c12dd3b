# The ESRP's call log: the writer (spool, PostgreSQL, outages, kills, rotation) on the test
# cluster, and ng911-calllog as an investigator uses it.
ng911_boost_test(esrp_calllog_tests esrp/calllog_test.cpp)
target_link_libraries(esrp_calllog_tests PRIVATE ng911_esrp_calllog PkgConfig::PQXX Threads::Threads)
set(calllog_suites calllog_write calllog_outage calllog_crash calllog_rotation calllog_spool_failure calllog_load)
ng911_add_suites(esrp_calllog_tests DB SUITES ${calllog_suites})
# flush() waits as long as the writer makes progress; a writer that stalls must fail the test, not hang it.
foreach(suite IN LISTS calllog_suites)
  set_tests_properties(esrp_calllog_tests.${suite} PROPERTIES TIMEOUT 120)
endforeach()

add_test(NAME esrp_calllog_cli
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/esrp/calllog_cli_test.sh $<TARGET_FILE:ng911-calllog>)
set_tests_properties(esrp_calllog_cli PROPERTIES FIXTURES_REQUIRED test_db ENVIRONMENT "${NG911_TEST_DB_ENV}" TIMEOUT 120)

# The JSON check the call log runs on every event, against nlohmann::json on mutated details.
ng911_boost_test(esrp_json_check_tests esrp/json_check_test.cpp)
target_link_libraries(esrp_json_check_tests PRIVATE ng911_esrp_calllog ng911_log nlohmann_json::nlohmann_json)
ng911_add_suites(esrp_json_check_tests SUITES esrp_json_check)

# ng911-psap: units (password hashing, cookies, PIDF-LO to call view, SDP answers), the API's
# answers and errors against an in-process endpoint on the test cluster, and end to end with
# SIPp callers, curl, a WebSocket client and the ESRP's queue subscriber.
ng911_boost_test(psap_unit_tests psap/unit_test.cpp)
target_link_libraries(psap_unit_tests PRIVATE ng911_psap)
ng911_add_suites(psap_unit_tests SUITES psap_auth psap_call_view psap_sdp)

ng911_boost_test(psap_api_tests psap/api_test.cpp)
target_link_libraries(psap_api_tests PRIVATE ng911_psap PkgConfig::PQXX)
ng911_add_suites(psap_api_tests DB SUITES psap_api)

add_test(NAME psap_e2e
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/psap/psap_e2e_test.sh $<TARGET_FILE:ng911-psap> $<TARGET_FILE:ng911-queue-watch>)
set_tests_properties(psap_e2e PROPERTIES FIXTURES_REQUIRED test_db ENVIRONMENT "${NG911_TEST_DB_ENV}" TIMEOUT 300)

# The rebid for real: a caller with a location by reference only, dereferenced with HELD at the
# test LIS (held_lis, tests/esrp/held.cmake), then with the LIS stopped.
add_test(NAME psap_rebid
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/psap/rebid_test.sh $<TARGET_FILE:ng911-psap> $<TARGET_FILE:held_lis>)
set_tests_properties(psap_rebid PROPERTIES FIXTURES_REQUIRED test_db ENVIRONMENT "${NG911_TEST_DB_ENV}" TIMEOUT 120)

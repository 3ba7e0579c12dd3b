# The sample appliance's ng911-psap pieces: the sample data's psap-c county and
# scripts/esrp/call.sh --ring-s (CANCEL after the wait) through ng911-esrp to ng911-psap.
add_test(NAME psap_appliance
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/psap/appliance_psap_test.sh
          $<TARGET_FILE:ng911-psap> $<TARGET_FILE:ng911-esrp> $<TARGET_FILE:ng911-calllog>)
set_tests_properties(psap_appliance PROPERTIES FIXTURES_REQUIRED test_db ENVIRONMENT "${NG911_TEST_DB_ENV}" TIMEOUT 120)

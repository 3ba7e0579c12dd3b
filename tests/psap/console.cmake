# The call-takers' console in headless Chromium (playwright-core) against real peers: SIPp
# callers through ng911-esrp to ng911-psap, which serves the built console. Screenshots go to
# the build directory (console-screenshots/).
foreach(script calls resync)
  add_test(NAME psap_console_${script}
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/psap/console_e2e_test.sh console_${script}.mjs
            $<TARGET_FILE:ng911-psap> $<TARGET_FILE:ng911-esrp> $<TARGET_FILE:ng911-gis>
            ${CMAKE_SOURCE_DIR}/psap-ui/console/dist ${CMAKE_BINARY_DIR}/console-screenshots)
  # One browser at a time: two Chromiums on a 2-core machine make the timings meaningless.
  set_tests_properties(psap_console_${script} PROPERTIES FIXTURES_REQUIRED test_db ENVIRONMENT "${NG911_TEST_DB_ENV}"
    TIMEOUT 300 RESOURCE_LOCK ng911_browser)
endforeach()

# The ESRP's policy rules (NENA i3 PRF): evaluation order, every condition, actions, every kind of
# problem in a rule file, reload without restart, and the sample appliance's rules.
ng911_boost_test(esrp_policy_tests esrp/policy_test.cpp)
target_link_libraries(esrp_policy_tests PRIVATE ng911_esrp_policy)
target_compile_definitions(esrp_policy_tests PRIVATE NG911_SAMPLE_POLICY="${CMAKE_CURRENT_SOURCE_DIR}/../scripts/esrp/policy.json")
ng911_add_suites(esrp_policy_tests SUITES policy_order policy_conditions policy_validation policy_store)

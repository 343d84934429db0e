# The instance role's credentials are STS credentials.
target_link_libraries(fogbank_svc_imds PUBLIC fogbank_svc_sts)

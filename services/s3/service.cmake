# S3 checksums: ISA-L's CRC32/CRC32C (found in the top-level CMakeLists.txt).
target_include_directories(fogbank_svc_s3 PRIVATE ${ISAL_INCLUDE_DIR})
target_link_libraries(fogbank_svc_s3 PRIVATE ${ISAL_LIBRARY})
# Event notifications go to SQS queues and SNS topics through their public interfaces
# (sqs::MessageSink, sns::TopicPublisher), which the public header names.
target_link_libraries(fogbank_svc_s3 PUBLIC fogbank_svc_sqs fogbank_svc_sns)

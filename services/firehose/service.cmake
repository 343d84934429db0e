# Firehose writes into buckets through S3's public ObjectWriter and reads Kinesis streams through
# Kinesis's StreamReader; zlib (GZIP, ZIP), snappy and ISA-L
# (ZIP's CRC-32, Snappy framing's CRC-32C) compress what it writes.
target_link_libraries(fogbank_svc_firehose PUBLIC fogbank_svc_s3 fogbank_svc_kinesis PRIVATE z snappy ${ISAL_LIBRARY})
target_include_directories(fogbank_svc_firehose PRIVATE ${ISAL_INCLUDE_DIR})

# S3 checksums: ISA-L's CRC32/CRC32C (found in the top-level CMakeLists.txt).
target_include_directories(fogbank_svc_s3 PRIVATE ${ISAL_INCLUDE_DIR})
target_link_libraries(fogbank_svc_s3 PRIVATE ${ISAL_LIBRARY})

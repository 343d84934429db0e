# Shared compile flags for every fogbank target: warnings, optional sanitizers.
add_library(fogbank_flags INTERFACE)
target_compile_options(fogbank_flags INTERFACE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
if(FOGBANK_WERROR)
  target_compile_options(fogbank_flags INTERFACE -Werror)
endif()
if(FOGBANK_SANITIZE)
  set(_san -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  # GCC 12 reports maybe-uninitialized false positives in libstdc++ (std::regex, std::function)
  # under the sanitizers' instrumentation; the plain build keeps the warning.
  target_compile_options(fogbank_flags INTERFACE -O1)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # Clang has no such warning and would warn about the unknown option instead.
    target_compile_options(fogbank_flags INTERFACE -Wno-maybe-uninitialized)
  endif()
  target_compile_options(fogbank_flags INTERFACE ${_san})
  target_link_options(fogbank_flags INTERFACE ${_san})
endif()
if(FOGBANK_TSAN)
  if(FOGBANK_SANITIZE)
    message(FATAL_ERROR "FOGBANK_TSAN and FOGBANK_SANITIZE exclude each other")
  endif()
  set(_tsan -fsanitize=thread -fno-omit-frame-pointer)
  target_compile_options(fogbank_flags INTERFACE -O1 ${_tsan})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC warns that TSan does not instrument std::atomic_thread_fence; fogbank uses none.
    target_compile_options(fogbank_flags INTERFACE -Wno-maybe-uninitialized -Wno-tsan)
  endif()
  target_link_options(fogbank_flags INTERFACE ${_tsan})
endif()

# fogbank_layer(NAME DIR) declares one library per layer from the sources under DIR/src.
# Globbing (with CONFIGURE_DEPENDS) keeps "add a handler file" a one-file change.
function(fogbank_layer name dir)
  file(GLOB_RECURSE _srcs CONFIGURE_DEPENDS "${dir}/src/*.cpp")
  add_library(${name} STATIC ${_srcs})
  target_include_directories(${name} PUBLIC "${dir}/include")
  target_link_libraries(${name} PRIVATE fogbank_flags)
endfunction()

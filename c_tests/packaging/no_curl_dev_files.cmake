# Configures nethttp as on a machine without libcurl's development files
# (pkg-config is pointed at an empty directory, so it knows no libcurl):
#   cmake -DSOURCE_DIR=S -DBINARY_DIR=B -DGENERATOR=G -DC_COMPILER=CC -P no_curl_dev_files.cmake
# The default configuration must stop and say what to install (rather than
# let the curl crate build a bundled libcurl with other features), and
# NETHTTP_BUNDLED_CURL=ON must configure. Configuring only: nothing is built.
cmake_minimum_required(VERSION 3.16)

set(_empty "${BINARY_DIR}/empty-pkgconfig")
file(REMOVE_RECURSE "${BINARY_DIR}")
file(MAKE_DIRECTORY "${_empty}")
set(ENV{PKG_CONFIG_LIBDIR} "${_empty}")
set(ENV{PKG_CONFIG_PATH} "")
execute_process(COMMAND pkg-config --exists libcurl RESULT_VARIABLE _rc)
if(_rc EQUAL 0)
  message(FATAL_ERROR "pkg-config still finds libcurl with PKG_CONFIG_LIBDIR=${_empty}")
endif()

foreach(_case IN ITEMS OFF ON)
  set(_dir "${BINARY_DIR}/bundled-${_case}")
  execute_process(COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${_dir}" -G "${GENERATOR}"
                          "-DCMAKE_C_COMPILER=${C_COMPILER}" "-DNETHTTP_BUNDLED_CURL=${_case}"
                          -DNETHTTP_BUILD_TESTS=OFF -DNETHTTP_BUILD_EXAMPLES=OFF
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
  if(_case STREQUAL "OFF")
    if(_rc EQUAL 0)
      message(FATAL_ERROR "the default configuration went ahead without libcurl's development files:\n${_out}")
    endif()
    if(NOT _out MATCHES "nethttp: libcurl's development files were not found")
      message(FATAL_ERROR "the default configuration failed without saying why:\n${_out}")
    endif()
    message("default (system libcurl): stops, saying what to install")
  else()
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR "NETHTTP_BUNDLED_CURL=ON does not configure without libcurl's development files:\n${_out}")
    endif()
    message("NETHTTP_BUNDLED_CURL=ON: configures")
  endif()
endforeach()
file(REMOVE_RECURSE "${BINARY_DIR}")

# Installs the build tree twice more, as a configuration that keeps debug
# information and then the same with `--strip`, and checks the libraries:
#   cmake -DBUILD_DIR=B -DPREFIX=P -DLIBDIR=lib -DVERSION=X.Y.Z -DREADELF=readelf
#         -P check_strip.cmake
# (The Release installation itself is checked by check_install.cmake.)
cmake_minimum_required(VERSION 3.16)

# fail() and nethttp_check_sections().
include("${CMAKE_CURRENT_LIST_DIR}/check_sections.cmake")

foreach(_case IN ITEMS "debug=OFF" "strip=ON")
  string(REGEX MATCH "^([a-z]*)=(.*)$" _ "${_case}")
  set(_name "${CMAKE_MATCH_1}")
  set(_stripped "${CMAKE_MATCH_2}")
  set(_prefix "${PREFIX}-${_name}")
  set(_strip_arg "")
  if(_name STREQUAL "strip")
    set(_strip_arg --strip)
  endif()
  file(REMOVE_RECURSE "${_prefix}")
  execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${_prefix}"
                          --config RelWithDebInfo ${_strip_arg}
                  OUTPUT_QUIET RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    fail("cmake --install --config RelWithDebInfo ${_strip_arg} failed")
    continue()
  endif()
  message("cmake --install --config RelWithDebInfo ${_strip_arg}:")
  nethttp_check_sections("${_prefix}/${LIBDIR}/libnethttp.so.${VERSION}" "${_stripped}" 0)
  nethttp_check_sections("${_prefix}/${LIBDIR}/libnethttp.a" "${_stripped}" 0)
  file(REMOVE_RECURSE "${_prefix}")
endforeach()
if(_errors GREATER 0)
  message(FATAL_ERROR "${_errors} problem(s) with stripping")
endif()

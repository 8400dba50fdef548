# Configures and builds a consumer project in a fresh build directory, as a
# user would:
#   cmake -DSOURCE_DIR=S -DBINARY_DIR=B -DGENERATOR=G [-DMAKE_PROGRAM=M]
#         -DC_COMPILER=CC [-DCXX_COMPILER=CXX] [-DBUILD_TYPE=T]
#         [-DEXPECT_PACKAGE_DIR=D] [-DC_ONLY=ON] [-DQUIET=ON]
#         [-DINSTALL_HOLDS_NETHTTP=ON|OFF] -P consumer_build.cmake [-- -DVAR=VALUE...]
# The arguments after `--` go to the configure step. With EXPECT_PACKAGE_DIR,
# the nethttp package must have been found exactly there (not in some other
# installation on the system). C_ONLY: no C++ compiler can be found (CXX
# names none that exists), so the project builds with a C compiler alone.
# QUIET: configuring and building print no warning and no note. With
# INSTALL_HOLDS_NETHTTP, the consumer is then installed into B/install, which
# must hold nethttp's files (ON) or none of them (OFF).
cmake_minimum_required(VERSION 3.16)

set(_extra "")
set(_take OFF)
foreach(_i RANGE 1 ${CMAKE_ARGC})
  if(_take AND DEFINED CMAKE_ARGV${_i})
    list(APPEND _extra "${CMAKE_ARGV${_i}}")
  elseif("${CMAKE_ARGV${_i}}" STREQUAL "--")
    set(_take ON)
  endif()
endforeach()

set(_configure "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${BINARY_DIR}" -G "${GENERATOR}"
    "-DCMAKE_C_COMPILER=${C_COMPILER}")
if(MAKE_PROGRAM)
  list(APPEND _configure "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(C_ONLY)
  set(ENV{CXX} "/nonexistent/c++")
elseif(CXX_COMPILER)
  list(APPEND _configure "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
if(BUILD_TYPE)
  list(APPEND _configure "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
endif()
list(APPEND _configure ${_extra})

file(REMOVE_RECURSE "${BINARY_DIR}")
string(REPLACE ";" " " _shown "${_configure}")
message("configure: ${_shown}")
execute_process(COMMAND ${_configure} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
message("${_out}")
set(_all_output "${_out}")
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "configuring ${SOURCE_DIR} failed")
endif()
if(EXPECT_PACKAGE_DIR)
  file(STRINGS "${BINARY_DIR}/CMakeCache.txt" _dir REGEX "^nethttp_DIR:")
  string(REGEX REPLACE "^[^=]*=" "" _dir "${_dir}")
  get_filename_component(_dir "${_dir}" REALPATH)
  get_filename_component(_expected "${EXPECT_PACKAGE_DIR}" REALPATH)
  if(NOT _dir STREQUAL _expected)
    message(FATAL_ERROR "nethttp was found in '${_dir}', expected '${_expected}'")
  endif()
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BINARY_DIR}" --parallel 2
                RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
message("${_out}")
string(APPEND _all_output "${_out}")
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "building ${SOURCE_DIR} failed")
endif()

if(QUIET)
  string(REPLACE "\n" ";" _lines "${_all_output}")
  foreach(_line IN LISTS _lines)
    string(TOLOWER "${_line}" _lower)
    if(_lower MATCHES "warning|note:")
      message(SEND_ERROR "the build printed: ${_line}")
      set(_noisy ON)
    endif()
  endforeach()
  if(_noisy)
    message(FATAL_ERROR "configuring and building ${SOURCE_DIR} printed warnings or notes")
  endif()
  message("no warnings and no notes in the output of configuring and building")
endif()

if(DEFINED INSTALL_HOLDS_NETHTTP AND NOT INSTALL_HOLDS_NETHTTP STREQUAL "")
  set(_prefix "${BINARY_DIR}/install")
  execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BINARY_DIR}" --prefix "${_prefix}"
                  OUTPUT_QUIET RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "installing ${BINARY_DIR} failed")
  endif()
  file(GLOB_RECURSE _installed LIST_DIRECTORIES false RELATIVE "${_prefix}" "${_prefix}/*")
  set(_nethttp_files "${_installed}")
  list(FILTER _nethttp_files INCLUDE REGEX "nethttp")
  message("the consumer's installation holds: ${_installed}")
  if(INSTALL_HOLDS_NETHTTP)
    foreach(_file IN ITEMS include/nethttp.h lib/libnethttp.a lib/pkgconfig/nethttp.pc
                           lib/cmake/nethttp/nethttpConfig.cmake)
      if(NOT _file IN_LIST _installed)
        message(FATAL_ERROR "NETHTTP_INSTALL=ON, but ${_file} was not installed")
      endif()
    endforeach()
  elseif(_nethttp_files)
    message(FATAL_ERROR "the consumer's installation holds nethttp's files: ${_nethttp_files}")
  endif()
endif()

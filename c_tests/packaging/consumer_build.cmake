# Configures and builds a consumer project in a fresh build directory, as a
# user would:
#   cmake -DSOURCE_DIR=S -DBINARY_DIR=B -DGENERATOR=G [-DMAKE_PROGRAM=M]
#         -DC_COMPILER=CC [-DCXX_COMPILER=CXX] [-DBUILD_TYPE=T]
#         [-DEXPECT_PACKAGE_DIR=D] -P consumer_build.cmake [-- -DVAR=VALUE...]
# The arguments after `--` go to the configure step. With EXPECT_PACKAGE_DIR,
# the nethttp package must have been found exactly there (not in some other
# installation on the system).
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
if(CXX_COMPILER)
  list(APPEND _configure "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
if(BUILD_TYPE)
  list(APPEND _configure "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
endif()
list(APPEND _configure ${_extra})

file(REMOVE_RECURSE "${BINARY_DIR}")
string(REPLACE ";" " " _shown "${_configure}")
message("configure: ${_shown}")
execute_process(COMMAND ${_configure} RESULT_VARIABLE _rc)
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
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BINARY_DIR}" --parallel 2 RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "building ${SOURCE_DIR} failed")
endif()

# Installs the build tree into a fresh prefix, as a user would:
#   cmake -DBUILD_DIR=B -DPREFIX=P [-DCONFIG=C] -P install_prefix.cmake
cmake_minimum_required(VERSION 3.16)
file(REMOVE_RECURSE "${PREFIX}")
set(_config "")
if(CONFIG)
  set(_config --config "${CONFIG}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" ${_config}
  RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${_rc})")
endif()

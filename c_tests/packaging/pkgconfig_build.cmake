# Builds a program with the compiler and pkg-config alone, as a Makefile would:
#   cmake -DPREFIX=P -DLIBDIR=lib -DSOURCE=app.c -DBINARY_DIR=B -DCC=cc
#         -DPKG_CONFIG=pkg-config -P pkgconfig_build.cmake
# Writes B/app_shared (linked with -lnethttp) and B/app_static (linked with
# libnethttp.a and the Libs.private of nethttp.pc), with the commands the
# README shows.
cmake_minimum_required(VERSION 3.16)

file(REMOVE_RECURSE "${BINARY_DIR}")
file(MAKE_DIRECTORY "${BINARY_DIR}")
set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${LIBDIR}/pkgconfig")
set(ENV{PKG_CONFIG} "${PKG_CONFIG}")
set(ENV{CC} "${CC}")

execute_process(COMMAND "${PKG_CONFIG}" --modversion nethttp OUTPUT_VARIABLE _version RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "pkg-config does not find nethttp in ${PREFIX}/${LIBDIR}/pkgconfig")
endif()
message("pkg-config finds nethttp ${_version}")

set(_warnings "-std=c11 -Wall -Wextra -Wpedantic -Werror")
set(_commands
  # shared; the rpath is only needed because the prefix is not a system one
  "\"$CC\" ${_warnings} \"${SOURCE}\" $($PKG_CONFIG --cflags --libs nethttp) -Wl,-rpath,$($PKG_CONFIG --variable=libdir nethttp) -o app_shared"
  # static: libnethttp.a instead of -lnethttp, plus Libs.private
  "\"$CC\" ${_warnings} \"${SOURCE}\" $($PKG_CONFIG --cflags nethttp) $($PKG_CONFIG --libs --static nethttp | sed 's/-lnethttp /-l:libnethttp.a /') -o app_static")
foreach(_command IN LISTS _commands)
  message("sh -c '${_command}'")
  execute_process(COMMAND sh -c "${_command}" WORKING_DIRECTORY "${BINARY_DIR}" RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "the pkg-config build failed")
  endif()
endforeach()

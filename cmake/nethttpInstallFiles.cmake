# Runs at install time (from `cmake --install`, through install(CODE) in
# nethttpInstall.cmake): writes nethttpConfig.cmake and nethttp.pc with the
# static library's native dependencies, read from the list rustc wrote when it
# built the library, and installs them. CMAKE_INSTALL_PREFIX is the prefix of
# this installation (`--prefix` included); DESTDIR is honoured by file(INSTALL).
#
# Inputs (set by the caller): NETHTTP_VERSION, NETHTTP_DESCRIPTION,
# NETHTTP_SOVERSION, NETHTTP_NATIVE_LIBS_FILE, NETHTTP_TEMPLATE_DIR,
# NETHTTP_STAGING_DIR, NETHTTP_INSTALL_LIBDIR, NETHTTP_INSTALL_INCLUDEDIR,
# NETHTTP_INSTALL_CMAKEDIR.

if(NOT EXISTS "${NETHTTP_NATIVE_LIBS_FILE}")
  message(FATAL_ERROR "nethttp: ${NETHTTP_NATIVE_LIBS_FILE} is missing: build nethttp before installing it")
endif()
file(READ "${NETHTTP_NATIVE_LIBS_FILE}" _nethttp_text)
string(STRIP "${_nethttp_text}" _nethttp_text)
# Older rustc versions wrote a "note: native-static-libs: " prefix.
string(REGEX REPLACE "^.*native-static-libs: *" "" _nethttp_text "${_nethttp_text}")
separate_arguments(_nethttp_flags UNIX_COMMAND "${_nethttp_text}")

# For CMake: `-lssl` becomes `ssl`; any other flag stays as it is.
set(NETHTTP_STATIC_NATIVE_LIBS "")
foreach(_nethttp_flag IN LISTS _nethttp_flags)
  if(_nethttp_flag MATCHES "^-l(.+)$")
    list(APPEND NETHTTP_STATIC_NATIVE_LIBS "${CMAKE_MATCH_1}")
  else()
    list(APPEND NETHTTP_STATIC_NATIVE_LIBS "${_nethttp_flag}")
  endif()
endforeach()
# For pkg-config: the flags as rustc wrote them.
list(JOIN _nethttp_flags " " NETHTTP_PC_LIBS_PRIVATE)

# configure_package_config_file() makes the config file relocatable; its
# PATH_VARS must be called exactly like these.
set(CMAKE_INSTALL_LIBDIR "${NETHTTP_INSTALL_LIBDIR}")
set(CMAKE_INSTALL_INCLUDEDIR "${NETHTTP_INSTALL_INCLUDEDIR}")
include(CMakePackageConfigHelpers)
configure_package_config_file(
  "${NETHTTP_TEMPLATE_DIR}/nethttpConfig.cmake.in"
  "${NETHTTP_STAGING_DIR}/nethttpConfig.cmake"
  INSTALL_DESTINATION "${NETHTTP_INSTALL_CMAKEDIR}"
  INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}"
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR)

# pkg-config files name absolute paths: those of this installation.
function(_nethttp_full_dir dir out)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "\${prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()
set(NETHTTP_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
_nethttp_full_dir("${NETHTTP_INSTALL_LIBDIR}" NETHTTP_PC_LIBDIR)
_nethttp_full_dir("${NETHTTP_INSTALL_INCLUDEDIR}" NETHTTP_PC_INCLUDEDIR)
configure_file("${NETHTTP_TEMPLATE_DIR}/nethttp.pc.in" "${NETHTTP_STAGING_DIR}/nethttp.pc" @ONLY)

# A loop, not a function: file(INSTALL) records the files in the install
# manifest, a variable that must stay in this scope.
foreach(_nethttp_pair IN ITEMS "nethttpConfig.cmake=${NETHTTP_INSTALL_CMAKEDIR}"
                               "nethttp.pc=${NETHTTP_INSTALL_LIBDIR}/pkgconfig")
  string(REGEX MATCH "^([^=]*)=(.*)$" _ "${_nethttp_pair}")
  set(_nethttp_dir "${CMAKE_MATCH_2}")
  if(NOT IS_ABSOLUTE "${_nethttp_dir}")
    set(_nethttp_dir "${CMAKE_INSTALL_PREFIX}/${_nethttp_dir}")
  endif()
  file(INSTALL "${NETHTTP_STAGING_DIR}/${CMAKE_MATCH_1}" DESTINATION "${_nethttp_dir}")
endforeach()

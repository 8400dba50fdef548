# Runs at install time (from `cmake --install` or CPack, through install(CODE)
# in nethttpInstall.cmake), once per component (NETHTTP_PART):
#   Runtime      the shared library and its soname link;
#   Development  the static library, the libnethttp.so link, and
#                nethttpConfig.cmake and nethttp.pc with the static library's
#                native dependencies, read from the list rustc wrote when it
#                built the library.
# CMAKE_INSTALL_PREFIX is the prefix of this installation (`--prefix`
# included); DESTDIR is honoured by file(INSTALL) and added to the links.
#
# Inputs (set by the caller): NETHTTP_PART, NETHTTP_VERSION,
# NETHTTP_DESCRIPTION, NETHTTP_SOVERSION, NETHTTP_SHARED_LIB,
# NETHTTP_STATIC_LIB, NETHTTP_NATIVE_LIBS_FILE, NETHTTP_OBJCOPY,
# NETHTTP_TEMPLATE_DIR, NETHTTP_STAGING_DIR, NETHTTP_INSTALL_LIBDIR,
# NETHTTP_INSTALL_INCLUDEDIR, NETHTTP_INSTALL_CMAKEDIR; from cmake_install.cmake:
# CMAKE_INSTALL_CONFIG_NAME and CMAKE_INSTALL_DO_STRIP (`--strip`).

foreach(_nethttp_input IN ITEMS NETHTTP_SHARED_LIB NETHTTP_STATIC_LIB NETHTTP_NATIVE_LIBS_FILE)
  if(NOT EXISTS "${${_nethttp_input}}")
    message(FATAL_ERROR "nethttp: ${${_nethttp_input}} is missing: build nethttp before installing it")
  endif()
endforeach()

set(_nethttp_libdir "${NETHTTP_INSTALL_LIBDIR}")
if(NOT IS_ABSOLUTE "${_nethttp_libdir}")
  set(_nethttp_libdir "${CMAKE_INSTALL_PREFIX}/${_nethttp_libdir}")
endif()
set(_nethttp_full_so "libnethttp.so.${NETHTTP_VERSION}")
set(_nethttp_so_major "libnethttp.so.${NETHTTP_SOVERSION}")

# Debug information stays only where it was asked for.
set(_nethttp_strip OFF)
if(CMAKE_INSTALL_DO_STRIP OR NOT CMAKE_INSTALL_CONFIG_NAME MATCHES "^(Debug|RelWithDebInfo)$")
  set(_nethttp_strip ON)
endif()

# Copies a library into the staging directory, slims it there, and installs
# the copy (so that the installed file is always the slimmed one, whatever
# the timestamps say). A macro: file(INSTALL) records the file in the install
# manifest, a variable of this scope.
macro(_nethttp_install_library source name)
  set(_nethttp_staged "${NETHTTP_STAGING_DIR}/${name}")
  file(MAKE_DIRECTORY "${NETHTTP_STAGING_DIR}")
  file(REMOVE "${_nethttp_staged}")
  set(_nethttp_strip_args ${ARGN})
  if(NETHTTP_OBJCOPY AND _nethttp_strip_args)
    execute_process(COMMAND "${NETHTTP_OBJCOPY}" ${_nethttp_strip_args} "${source}" "${_nethttp_staged}"
                    RESULT_VARIABLE _nethttp_rc)
    if(NOT _nethttp_rc EQUAL 0)
      message(FATAL_ERROR "nethttp: ${NETHTTP_OBJCOPY} ${_nethttp_strip_args} ${source} failed")
    endif()
  else()
    configure_file("${source}" "${_nethttp_staged}" COPYONLY)
  endif()
  file(INSTALL "${_nethttp_staged}" DESTINATION "${_nethttp_libdir}"
       FILE_PERMISSIONS OWNER_READ OWNER_WRITE ${_nethttp_exec} GROUP_READ WORLD_READ)
endmacro()

# A symbolic link NAME -> TARGET in the library directory.
macro(_nethttp_install_link name target)
  message(STATUS "Installing: $ENV{DESTDIR}${_nethttp_libdir}/${name} -> ${target}")
  file(MAKE_DIRECTORY "$ENV{DESTDIR}${_nethttp_libdir}")
  file(CREATE_LINK "${target}" "$ENV{DESTDIR}${_nethttp_libdir}/${name}" SYMBOLIC)
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${_nethttp_libdir}/${name}")
endmacro()

if(NETHTTP_PART STREQUAL "Runtime")
  set(_nethttp_exec OWNER_EXECUTE GROUP_EXECUTE WORLD_EXECUTE)
  set(_nethttp_args "")
  if(_nethttp_strip)
    set(_nethttp_args --strip-all)
  endif()
  _nethttp_install_library("${NETHTTP_SHARED_LIB}" "${_nethttp_full_so}" ${_nethttp_args})
  _nethttp_install_link("${_nethttp_so_major}" "${_nethttp_full_so}")
  return()
endif()

set(_nethttp_exec "")
set(_nethttp_args --remove-section=.llvmbc --remove-section=.llvmcmd)
if(_nethttp_strip)
  list(APPEND _nethttp_args --strip-debug)
endif()
_nethttp_install_library("${NETHTTP_STATIC_LIB}" "libnethttp.a" ${_nethttp_args})
_nethttp_install_link("libnethttp.so" "${_nethttp_so_major}")

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

# Checks an installed prefix:
#   cmake -DPREFIX=P -DLIBDIR=lib -DINCLUDEDIR=include -DVERSION=X.Y.Z
#         -DHEADER=include/nethttp.h -DCXX_HEADER=include/nethttp.hpp
#         -DNATIVE_LIBS_FILE=F -DNM=nm -DREADELF=readelf [-DSTRIPPED=ON]
#         -P check_install.cmake
# - the layout: the C header and the C++ header (identical to the sources),
#   versioned shared library and its links, static library, CMake package
#   files, pkg-config file;
# - the soname (libnethttp.so.MAJOR);
# - with STRIPPED (a Release installation): libnethttp.so has no symbol table
#   and no debug information and is under 2 MB, libnethttp.a has no debug
#   information; and neither ever carries LLVM bitcode;
# - the exported symbols: `nm -D --defined-only` lists exactly the functions
#   the header declares, all named nethttp_*, and nothing else (no libcurl,
#   OpenSSL or Rust symbols that could clash with the program's own);
# - the native libraries named in nethttpConfig.cmake and nethttp.pc are the
#   ones rustc reported for the build.
cmake_minimum_required(VERSION 3.16)

# fail() and nethttp_check_sections().
include("${CMAKE_CURRENT_LIST_DIR}/check_sections.cmake")

string(REGEX MATCH "^[0-9]+" _major "${VERSION}")
set(_lib "${PREFIX}/${LIBDIR}")

# Layout.
foreach(_file IN ITEMS
    "${INCLUDEDIR}/nethttp.h"
    "${INCLUDEDIR}/nethttp.hpp"
    "${LIBDIR}/libnethttp.so.${VERSION}"
    "${LIBDIR}/libnethttp.a"
    "${LIBDIR}/cmake/nethttp/nethttpConfig.cmake"
    "${LIBDIR}/cmake/nethttp/nethttpConfigVersion.cmake"
    "${LIBDIR}/pkgconfig/nethttp.pc")
  if(NOT EXISTS "${PREFIX}/${_file}" OR IS_SYMLINK "${PREFIX}/${_file}")
    fail("missing or not a regular file: ${PREFIX}/${_file}")
  endif()
endforeach()
foreach(_link IN ITEMS "libnethttp.so.${_major}=libnethttp.so.${VERSION}" "libnethttp.so=libnethttp.so.${_major}")
  string(REPLACE "=" ";" _link "${_link}")
  list(GET _link 0 _name)
  list(GET _link 1 _target)
  if(NOT IS_SYMLINK "${_lib}/${_name}")
    fail("${_lib}/${_name} is not a symbolic link")
  else()
    file(READ_SYMLINK "${_lib}/${_name}" _actual)
    if(NOT _actual STREQUAL _target)
      fail("${_lib}/${_name} points to '${_actual}', expected '${_target}'")
    endif()
  endif()
endforeach()
foreach(_pair IN ITEMS "nethttp.h=${HEADER}" "nethttp.hpp=${CXX_HEADER}")
  string(REGEX MATCH "^([^=]*)=(.*)$" _ "${_pair}")
  set(_name "${CMAKE_MATCH_1}")
  set(_source "${CMAKE_MATCH_2}")
  if(_source STREQUAL "" OR NOT EXISTS "${_source}")
    fail("no source given for ${_name} (-DHEADER, -DCXX_HEADER)")
  elseif(EXISTS "${PREFIX}/${INCLUDEDIR}/${_name}")
    file(SHA256 "${_source}" _source_header)
    file(SHA256 "${PREFIX}/${INCLUDEDIR}/${_name}" _installed_header)
    if(NOT _source_header STREQUAL _installed_header)
      fail("the installed ${_name} differs from ${_source}")
    endif()
  endif()
endforeach()
# Nothing else in the include directory.
file(GLOB _installed_headers RELATIVE "${PREFIX}/${INCLUDEDIR}" "${PREFIX}/${INCLUDEDIR}/*")
list(SORT _installed_headers)
if(NOT _installed_headers STREQUAL "nethttp.h;nethttp.hpp")
  fail("${PREFIX}/${INCLUDEDIR} holds '${_installed_headers}', expected 'nethttp.h;nethttp.hpp'")
endif()

# Soname.
execute_process(COMMAND "${READELF}" -d "${_lib}/libnethttp.so.${VERSION}" OUTPUT_VARIABLE _dynamic RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0 OR NOT _dynamic MATCHES "\\(SONAME\\)[^\n]*\\[libnethttp\\.so\\.${_major}\\]")
  fail("libnethttp.so.${VERSION} does not have the soname libnethttp.so.${_major}")
endif()

# Stripped, small, no bitcode.
nethttp_check_sections("${_lib}/libnethttp.so.${VERSION}" "${STRIPPED}" 2000000)
nethttp_check_sections("${_lib}/libnethttp.a" "${STRIPPED}" 0)

# Exported symbols against the functions the header declares.
file(READ "${HEADER}" _header_text)
# A declaration starts a line with its return type; comment lines start with
# a space or '*', so functions merely mentioned in comments do not count.
string(REGEX MATCHALL "\n[A-Za-z][^\n(]*[ *]nethttp_[a-z0-9_]+\\(" _declared "${_header_text}")
list(TRANSFORM _declared REPLACE "^.*[ *](nethttp_[a-z0-9_]+)\\($" "\\1")
list(REMOVE_DUPLICATES _declared)
list(SORT _declared)
execute_process(COMMAND "${NM}" -D --defined-only "${_lib}/libnethttp.so.${VERSION}"
  OUTPUT_VARIABLE _nm RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  fail("${NM} -D --defined-only failed")
endif()
string(REGEX REPLACE "\n$" "" _nm "${_nm}")
string(REPLACE "\n" ";" _nm_lines "${_nm}")
set(_exported "")
foreach(_line IN LISTS _nm_lines)
  # "ADDRESS TYPE NAME", NAME possibly with a @VERSION suffix.
  if(NOT _line MATCHES "^[0-9a-fA-F]* *[A-Za-z] ([^ @]+)")
    fail("cannot parse nm's line '${_line}'")
    continue()
  endif()
  set(_symbol "${CMAKE_MATCH_1}")
  if(NOT _symbol MATCHES "^nethttp_")
    fail("libnethttp.so exports '${_symbol}', which is not a nethttp_ symbol")
  endif()
  list(APPEND _exported "${_symbol}")
endforeach()
list(SORT _exported)
list(LENGTH _exported _count)
if(NOT _exported STREQUAL _declared)
  fail("exported symbols differ from the header's functions:\n  exported: ${_exported}\n  declared: ${_declared}")
endif()
message("libnethttp.so exports ${_count} symbols, all nethttp_* and all declared in nethttp.h")

# The native libraries of the static library, in the CMake and pkg-config files.
file(READ "${NATIVE_LIBS_FILE}" _native)
string(STRIP "${_native}" _native)
separate_arguments(_native_flags UNIX_COMMAND "${_native}")
list(TRANSFORM _native_flags REPLACE "^-l" "" OUTPUT_VARIABLE _native_names)
file(READ "${PREFIX}/${LIBDIR}/cmake/nethttp/nethttpConfig.cmake" _config)
if(NOT _config MATCHES "set\\(nethttp_STATIC_NATIVE_LIBS \"([^\"]*)\"\\)")
  fail("nethttpConfig.cmake does not set nethttp_STATIC_NATIVE_LIBS")
elseif(NOT CMAKE_MATCH_1 STREQUAL "${_native_names}")
  fail("nethttpConfig.cmake lists '${CMAKE_MATCH_1}', rustc reported '${_native_names}'")
endif()
file(READ "${PREFIX}/${LIBDIR}/pkgconfig/nethttp.pc" _pc)
list(JOIN _native_flags " " _native_joined)
if(NOT _pc MATCHES "\nLibs.private: ([^\n]*)\n")
  fail("nethttp.pc has no Libs.private")
elseif(NOT CMAKE_MATCH_1 STREQUAL _native_joined)
  fail("nethttp.pc's Libs.private is '${CMAKE_MATCH_1}', rustc reported '${_native_joined}'")
endif()
string(FIND "${_pc}" "prefix=${PREFIX}\n" _at)
if(NOT _at EQUAL 0)
  fail("nethttp.pc does not name the prefix ${PREFIX}")
endif()
if(NOT _pc MATCHES "\nVersion: ${VERSION}\n")
  fail("nethttp.pc does not say Version: ${VERSION}")
endif()
message("native libraries of libnethttp.a: ${_native_joined}")

if(_errors GREATER 0)
  message(FATAL_ERROR "${_errors} problem(s) with the installation in ${PREFIX}")
endif()
message("installation in ${PREFIX} is complete")

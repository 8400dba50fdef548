# Which libcurl nethttp runs on (README.md, "Choosing libcurl").
#
# The default is the system's libcurl, found through pkg-config (Debian's
# libcurl4-openssl-dev, Fedora's libcurl-devel), and it must have every
# feature nethttp promises: HTTP/2, gzip and deflate, brotli, zstd, Unix
# sockets, OpenSSL. Configuring checks that here, and stops with a message
# when the development files are missing or the library lacks a feature: a
# default build either has exactly NETHTTP_EXPECTED_FEATURES or does not
# happen. (Left alone, the curl crate would quietly build its own bundled
# libcurl when pkg-config finds none, and nethttp would differ from machine
# to machine; build.rs refuses that for plain cargo builds too.)
#
# NETHTTP_BUNDLED_CURL=ON builds the curl crate's bundled libcurl into
# nethttp instead (cargo feature bundled-curl): the same everywhere, no
# development files needed, but without brotli or zstd.
#
# Sets NETHTTP_CARGO_FEATURES (for cargo) and NETHTTP_EXPECTED_FEATURES (what
# nethttp_features() reports, checked by the test suite).
option(NETHTTP_BUNDLED_CURL "Build the curl crate's bundled libcurl into nethttp instead of linking the system's" OFF)

# nethttp_features() words, and the libcurl features (`supported_features`
# of libcurl.pc, as curl-config --features prints them) they come from.
set(_nethttp_curl_requirements "HTTP2=http2" "libz=gzip deflate" "brotli=br" "zstd=zstd"
    "=socks" "UnixSockets=unix-sockets" "SSL=mtls pinning")

if(NETHTTP_BUNDLED_CURL)
  set(NETHTTP_CARGO_FEATURES bundled-curl)
  set(NETHTTP_EXPECTED_FEATURES "http2 gzip deflate socks unix-sockets mtls pinning")
  return()
endif()
set(NETHTTP_CARGO_FEATURES "")
set(NETHTTP_EXPECTED_FEATURES "http2 gzip deflate br zstd socks unix-sockets mtls pinning")

set(_nethttp_curl_help
  "Install libcurl's development files, e.g.\n"
  "    apt-get install libcurl4-openssl-dev   (Debian, Ubuntu; scripts/ensure-tools.sh does this, saying so)\n"
  "    dnf install libcurl-devel               (Fedora)\n"
  "or build libcurl into nethttp (no brotli, no zstd): -DNETHTTP_BUNDLED_CURL=ON")
find_program(NETHTTP_PKG_CONFIG_EXECUTABLE NAMES pkg-config pkgconf)
mark_as_advanced(NETHTTP_PKG_CONFIG_EXECUTABLE)
if(NOT NETHTTP_PKG_CONFIG_EXECUTABLE)
  message(FATAL_ERROR "nethttp: pkg-config is needed to find the system's libcurl.\n" ${_nethttp_curl_help})
endif()
execute_process(COMMAND "${NETHTTP_PKG_CONFIG_EXECUTABLE}" --modversion libcurl
  OUTPUT_VARIABLE _nethttp_curl_version OUTPUT_STRIP_TRAILING_WHITESPACE
  ERROR_QUIET RESULT_VARIABLE _nethttp_rc)
if(NOT _nethttp_rc EQUAL 0)
  message(FATAL_ERROR "nethttp: libcurl's development files were not found "
                      "(pkg-config knows no libcurl).\n" ${_nethttp_curl_help})
endif()
execute_process(COMMAND "${NETHTTP_PKG_CONFIG_EXECUTABLE}" --variable=supported_features libcurl
  OUTPUT_VARIABLE _nethttp_curl_features OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
execute_process(COMMAND "${NETHTTP_PKG_CONFIG_EXECUTABLE}" --libs --static libcurl
  OUTPUT_VARIABLE _nethttp_curl_libs OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
separate_arguments(_nethttp_curl_features UNIX_COMMAND "${_nethttp_curl_features}")
set(_nethttp_missing "")
foreach(_nethttp_pair IN LISTS _nethttp_curl_requirements)
  string(REGEX MATCH "^([^=]*)=(.*)$" _ "${_nethttp_pair}")
  if(CMAKE_MATCH_1 STREQUAL "" OR CMAKE_MATCH_1 IN_LIST _nethttp_curl_features)
    continue()
  endif()
  list(APPEND _nethttp_missing "${CMAKE_MATCH_1} (${CMAKE_MATCH_2})")
endforeach()
# mtls and pinning need OpenSSL, not GnuTLS or NSS.
if(NOT _nethttp_curl_libs MATCHES "-lssl")
  list(APPEND _nethttp_missing "OpenSSL (mtls pinning)")
endif()
if(_nethttp_missing)
  list(JOIN _nethttp_missing ", " _nethttp_missing)
  message(FATAL_ERROR "nethttp: the system's libcurl ${_nethttp_curl_version} lacks ${_nethttp_missing}; "
                      "nethttp's default build needs all of: ${NETHTTP_EXPECTED_FEATURES}.\n" ${_nethttp_curl_help})
endif()

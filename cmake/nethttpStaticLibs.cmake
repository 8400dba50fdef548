# The native libraries that libnethttp.a needs besides itself (libcurl or
# OpenSSL, pthread, libdl, ...). rustc writes them when it builds the library;
# until then (a fresh configure) we fall back to the list for Linux, with the
# system libcurl when pkg-config finds one (the curl crate then links it) and
# the bundled one otherwise.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(_nethttp_system_curl QUIET libcurl)
endif()
if(_nethttp_system_curl_FOUND)
  set(NETHTTP_STATIC_NATIVE_LIBS curl gcc_s util rt pthread m dl c)
else()
  set(NETHTTP_STATIC_NATIVE_LIBS ssl crypto gcc_s util rt pthread m dl c)
endif()
if(EXISTS "${NETHTTP_NATIVE_LIBS_FILE}")
  file(READ "${NETHTTP_NATIVE_LIBS_FILE}" _nethttp_native)
  string(REGEX MATCH "native-static-libs: ([^\n]*)" _nethttp_match "${_nethttp_native}")
  if(CMAKE_MATCH_1)
    separate_arguments(_nethttp_flags UNIX_COMMAND "${CMAKE_MATCH_1}")
    set(NETHTTP_STATIC_NATIVE_LIBS "")
    foreach(_flag IN LISTS _nethttp_flags)
      string(REGEX REPLACE "^-l" "" _flag "${_flag}")
      list(APPEND NETHTTP_STATIC_NATIVE_LIBS "${_flag}")
    endforeach()
  endif()
endif()

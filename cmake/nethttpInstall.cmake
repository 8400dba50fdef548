# Installs (GNUInstallDirs layout):
#   include/nethttp.h, include/nethttp.hpp (the C++17 interface, header-only)
#   lib/libnethttp.so.X.Y.Z, lib/libnethttp.so.X -> .X.Y.Z, lib/libnethttp.so -> .X
#   lib/libnethttp.a
#   lib/cmake/nethttp/nethttpConfig.cmake, nethttpConfigVersion.cmake
#   lib/pkgconfig/nethttp.pc
# The config file and the .pc file name the static library's native
# dependencies, which are known only once the library is built; they are
# therefore written at install time (see nethttpInstallFiles.cmake).
set(_nethttp_full_so "libnethttp.so.${PROJECT_VERSION}")
set(_nethttp_so_major "libnethttp.so.${NETHTTP_SOVERSION}")
install(FILES "${NETHTTP_SHARED_LIB}" DESTINATION "${CMAKE_INSTALL_LIBDIR}" RENAME "${_nethttp_full_so}"
        PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
install(CODE "
  set(_nethttp_libdir \"${CMAKE_INSTALL_LIBDIR}\")
  if(NOT IS_ABSOLUTE \"\${_nethttp_libdir}\")
    set(_nethttp_libdir \"\${CMAKE_INSTALL_PREFIX}/\${_nethttp_libdir}\")
  endif()
  foreach(_nethttp_link IN ITEMS \"${_nethttp_so_major}=${_nethttp_full_so}\" \"libnethttp.so=${_nethttp_so_major}\")
    string(REPLACE \"=\" \";\" _nethttp_link \"\${_nethttp_link}\")
    list(GET _nethttp_link 0 _nethttp_name)
    list(GET _nethttp_link 1 _nethttp_target)
    message(STATUS \"Installing: \$ENV{DESTDIR}\${_nethttp_libdir}/\${_nethttp_name} -> \${_nethttp_target}\")
    file(CREATE_LINK \"\${_nethttp_target}\" \"\$ENV{DESTDIR}\${_nethttp_libdir}/\${_nethttp_name}\" SYMBOLIC)
    list(APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${_nethttp_libdir}/\${_nethttp_name}\")
  endforeach()
")
install(FILES "${NETHTTP_STATIC_LIB}" DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(FILES "${NETHTTP_INCLUDE_DIR}/nethttp.h" "${NETHTTP_INCLUDE_DIR}/nethttp.hpp"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")

# The version file does not depend on the build: write it now. SameMinorVersion
# because before 1.0 a new minor version may break the API.
include(CMakePackageConfigHelpers)
set(NETHTTP_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/nethttp")
write_basic_package_version_file(
  "${CMAKE_CURRENT_BINARY_DIR}/nethttpConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/nethttpConfigVersion.cmake"
        DESTINATION "${NETHTTP_INSTALL_CMAKEDIR}")

# nethttpConfig.cmake and nethttp.pc, from the list rustc wrote at build time.
install(CODE "
  set(NETHTTP_VERSION \"${PROJECT_VERSION}\")
  set(NETHTTP_DESCRIPTION \"${PROJECT_DESCRIPTION}\")
  set(NETHTTP_SOVERSION \"${NETHTTP_SOVERSION}\")
  set(NETHTTP_NATIVE_LIBS_FILE \"${NETHTTP_NATIVE_LIBS_FILE}\")
  set(NETHTTP_TEMPLATE_DIR \"${CMAKE_CURRENT_SOURCE_DIR}/cmake\")
  set(NETHTTP_STAGING_DIR \"${CMAKE_CURRENT_BINARY_DIR}/nethttp-install-files\")
  set(NETHTTP_INSTALL_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
  set(NETHTTP_INSTALL_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
  set(NETHTTP_INSTALL_CMAKEDIR \"${NETHTTP_INSTALL_CMAKEDIR}\")
  include(\"${CMAKE_CURRENT_SOURCE_DIR}/cmake/nethttpInstallFiles.cmake\")
")

# Install rules, only when NETHTTP_INSTALL is on (the default for a nethttp
# built on its own). GNUInstallDirs layout, in two components, which CPack
# turns into the runtime and development .deb packages:
#   Runtime      lib/libnethttp.so.X.Y.Z, lib/libnethttp.so.X -> .X.Y.Z
#   Development  include/nethttp.h, include/nethttp.hpp (the C++17 interface,
#                header-only), lib/libnethttp.so -> .X, lib/libnethttp.a,
#                lib/cmake/nethttp/nethttpConfig.cmake, nethttpConfigVersion.cmake,
#                lib/pkgconfig/nethttp.pc
# cargo builds the libraries, so CMake knows them only as files, and neither
# `cmake --install --strip` nor the build type would strip them by itself:
# nethttpInstallFiles.cmake does it. The installed libnethttp.so is stripped
# unless the configuration keeps debug information (Debug, RelWithDebInfo)
# and --strip was not given; libnethttp.a loses its debug information the
# same way, and always the LLVM bitcode that Rust's standard library carries
# (only rustc's own LTO reads it). The config file and the .pc file name the
# static library's native dependencies, which are known only once the
# library is built; they are therefore written at install time too.
set(NETHTTP_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/nethttp")
if(NOT CMAKE_OBJCOPY)
  message(STATUS "nethttp: no objcopy found; the installed libraries keep their debug information")
endif()
foreach(_nethttp_part IN ITEMS Runtime Development)
  install(CODE "
    set(NETHTTP_PART \"${_nethttp_part}\")
    set(NETHTTP_VERSION \"${PROJECT_VERSION}\")
    set(NETHTTP_DESCRIPTION \"${PROJECT_DESCRIPTION}\")
    set(NETHTTP_SOVERSION \"${NETHTTP_SOVERSION}\")
    set(NETHTTP_SHARED_LIB \"${NETHTTP_SHARED_LIB}\")
    set(NETHTTP_STATIC_LIB \"${NETHTTP_STATIC_LIB}\")
    set(NETHTTP_NATIVE_LIBS_FILE \"${NETHTTP_NATIVE_LIBS_FILE}\")
    set(NETHTTP_OBJCOPY \"${CMAKE_OBJCOPY}\")
    set(NETHTTP_TEMPLATE_DIR \"${CMAKE_CURRENT_SOURCE_DIR}/cmake\")
    set(NETHTTP_STAGING_DIR \"${CMAKE_CURRENT_BINARY_DIR}/nethttp-install-files\")
    set(NETHTTP_INSTALL_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
    set(NETHTTP_INSTALL_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
    set(NETHTTP_INSTALL_CMAKEDIR \"${NETHTTP_INSTALL_CMAKEDIR}\")
    include(\"${CMAKE_CURRENT_SOURCE_DIR}/cmake/nethttpInstallFiles.cmake\")
  " COMPONENT ${_nethttp_part})
endforeach()
install(FILES "${NETHTTP_INCLUDE_DIR}/nethttp.h" "${NETHTTP_INCLUDE_DIR}/nethttp.hpp"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}" COMPONENT Development)

# The version file does not depend on the build: write it now. SameMinorVersion
# because before 1.0 a new minor version may break the API.
include(CMakePackageConfigHelpers)
write_basic_package_version_file(
  "${CMAKE_CURRENT_BINARY_DIR}/nethttpConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/nethttpConfigVersion.cmake"
        DESTINATION "${NETHTTP_INSTALL_CMAKEDIR}" COMPONENT Development)

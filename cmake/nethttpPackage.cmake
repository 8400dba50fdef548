# .deb packages through CPack (`cpack -G DEB` in a build directory configured
# with -DCMAKE_INSTALL_PREFIX=/usr, so that GNUInstallDirs picks the
# multiarch library directory; scripts/packaging.sh does it and tests them):
#   libnethttp0      the Runtime component: libnethttp.so.0 and the file it
#                    points to; its dependencies (libc6, libgcc-s1, libcurl4
#                    or libssl3) are computed by dpkg-shlibdeps, and its shlibs
#                    file tells packages built against it which to depend on
#   libnethttp-dev   the Development component: headers, libnethttp.so,
#                    libnethttp.a, the CMake package and nethttp.pc; depends
#                    on libnethttp0 of the same version and on what linking
#                    libnethttp.a statically needs
# Both install stripped libraries (CPACK_STRIP_FILES).
set(CPACK_PACKAGE_NAME "nethttp")
set(CPACK_PACKAGE_VENDOR "nethttp")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_CONTACT "nethttp maintainers <nethttp@localhost>")
set(CPACK_STRIP_FILES ON)
set(CPACK_SET_DESTDIR ON) # the .pc and config files name /usr, not CPack's staging directory
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_COMPONENTS_ALL Runtime Development)
set(CPACK_GENERATOR DEB)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME "libnethttp${NETHTTP_SOVERSION}")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
# Only the runtime package has a shared object (the -dev one has a link).
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "nethttp makes asynchronous HTTP and HTTPS requests from C and C++ on a
thread of its own, through libcurl's multi interface. This package holds
the shared library.")
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME "libnethttp-dev")
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
if(NETHTTP_BUNDLED_CURL)
  set(_nethttp_static_deps "libssl-dev, zlib1g-dev")
else()
  set(_nethttp_static_deps "libcurl4-openssl-dev")
endif()
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS
    "libnethttp${NETHTTP_SOVERSION} (= ${PROJECT_VERSION}), ${_nethttp_static_deps}")
set(CPACK_DEBIAN_DEVELOPMENT_DESCRIPTION "nethttp makes asynchronous HTTP and HTTPS requests from C and C++ on a
thread of its own, through libcurl's multi interface. This package holds
its development files: the C header and the C++17 header, the static library, and the CMake
(find_package(nethttp)) and pkg-config (nethttp) files.")
include(CPack)

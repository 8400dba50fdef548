# Installs the libraries, the header, the CMake package and the pkg-config file.
set(_nethttp_full_so "libnethttp.so.${PROJECT_VERSION}")
set(_nethttp_so_major "libnethttp.so.${NETHTTP_SOVERSION}")
install(FILES "${NETHTTP_SHARED_LIB}" DESTINATION "${CMAKE_INSTALL_LIBDIR}" RENAME "${_nethttp_full_so}"
        PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
install(CODE "
  set(_dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}\")
  execute_process(COMMAND \"${CMAKE_COMMAND}\" -E create_symlink ${_nethttp_full_so} \"\${_dir}/${_nethttp_so_major}\")
  execute_process(COMMAND \"${CMAKE_COMMAND}\" -E create_symlink ${_nethttp_so_major} \"\${_dir}/libnethttp.so\")
")
install(FILES "${NETHTTP_STATIC_LIB}" DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(FILES "${NETHTTP_INCLUDE_DIR}/nethttp.h" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")

include(CMakePackageConfigHelpers)
set(NETHTTP_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/nethttp")
configure_package_config_file(
  "${CMAKE_CURRENT_SOURCE_DIR}/cmake/nethttpConfig.cmake.in"
  "${CMAKE_CURRENT_BINARY_DIR}/nethttpConfig.cmake"
  INSTALL_DESTINATION "${NETHTTP_INSTALL_CMAKEDIR}")
write_basic_package_version_file(
  "${CMAKE_CURRENT_BINARY_DIR}/nethttpConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/nethttpConfig.cmake"
              "${CMAKE_CURRENT_BINARY_DIR}/nethttpConfigVersion.cmake"
        DESTINATION "${NETHTTP_INSTALL_CMAKEDIR}")

# pkg-config: Libs.private is what a static link needs.
list(TRANSFORM NETHTTP_STATIC_NATIVE_LIBS PREPEND "-l" OUTPUT_VARIABLE _nethttp_private)
list(JOIN _nethttp_private " " NETHTTP_PC_LIBS_PRIVATE)
configure_file("${CMAKE_CURRENT_SOURCE_DIR}/cmake/nethttp.pc.in" "${CMAKE_CURRENT_BINARY_DIR}/nethttp.pc" @ONLY)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/nethttp.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")

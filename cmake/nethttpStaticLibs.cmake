# The native libraries that libnethttp.a needs besides itself: libcurl (when
# the curl crate found the system's through pkg-config) or OpenSSL and zlib
# (when it built its bundled libcurl), plus what Rust's standard library needs
# (libgcc_s, pthread, libdl, ...). rustc knows the exact list and writes it to
# NETHTTP_NATIVE_LIBS_FILE each time it builds the library
# (`--print native-static-libs=FILE`, e.g. "-lssl -lcrypto -lz -lgcc_s ...").
#
# The list exists only after the first build, and it changes when the system
# changes (installing libcurl's development files switches the curl crate to
# the system libcurl), so nothing here guesses it at configure time:
#  - in the build tree, nethttp::nethttp_static hands the file itself to the
#    linker as a response file (`-Wl,@FILE`; GNU ld, gold, lld and mold read
#    them), so the list is right even on the very first build;
#  - at install time, nethttpInstallFiles.cmake reads the file and writes the
#    names into the installed nethttpConfig.cmake and nethttp.pc.
if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
  set(NETHTTP_BUILD_TREE_NATIVE_LIBS "-Wl,@${NETHTTP_NATIVE_LIBS_FILE}")
else()
  message(WARNING "nethttp: nethttp::nethttp_static needs a GNU-style linker; "
                  "add the libraries listed in ${NETHTTP_NATIVE_LIBS_FILE} yourself")
  set(NETHTTP_BUILD_TREE_NATIVE_LIBS "")
endif()

# Runs cargo for the nethttp_cargo target (`cmake -P`, so that it works with
# every generator and needs no shell):
#
#   cmake -DCARGO=cargo -DMANIFEST=Cargo.toml -DTARGET_DIR=build/cargo
#         -DNATIVE_LIBS_FILE=F [-DFEATURES=bundled-curl] [-DVENDOR_DIR=D]
#         -P nethttpCargo.cmake
#
# `cargo rustc` (not `cargo build`) so that rustc also writes the list of
# native libraries the static library needs to NATIVE_LIBS_FILE. rustc then
# adds a note saying so, and cargo repeats it on every build, even one with
# nothing to do; the note is dropped here, everything else cargo says is
# shown. With VENDOR_DIR (the crates `scripts/vendor.sh` put there), cargo
# builds offline from it.
cmake_minimum_required(VERSION 3.16)

set(_command "${CARGO}" rustc --release --lib --manifest-path "${MANIFEST}" --target-dir "${TARGET_DIR}")
if(FEATURES)
  list(APPEND _command --features "${FEATURES}")
endif()
if(VENDOR_DIR)
  list(APPEND _command --offline --locked
       --config "source.crates-io.replace-with=\"nethttp-vendored\""
       --config "source.nethttp-vendored.directory=\"${VENDOR_DIR}\"")
endif()
list(APPEND _command -- --print "native-static-libs=${NATIVE_LIBS_FILE}")

execute_process(COMMAND ${_command} RESULT_VARIABLE _rc ERROR_VARIABLE _stderr)

# The note is two lines: "note: native artifacts to link against have been
# written to FILE. The order ..." and a blank line after it.
string(REGEX REPLACE "note: native artifacts to link against have been written to [^\n]*\n\n?" ""
       _stderr "${_stderr}")
# Older rustc versions print the list itself as notes.
string(REGEX REPLACE "note: (Link against the following native artifacts|native-static-libs:)[^\n]*\n\n?" ""
       _stderr "${_stderr}")
string(REGEX REPLACE "\n+$" "" _stderr "${_stderr}")
if(NOT _stderr STREQUAL "")
  message("${_stderr}")
endif()
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "nethttp: cargo failed (${_rc})")
endif()

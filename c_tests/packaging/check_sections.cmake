# For the check_*.cmake scripts: fail(MSG) reports a problem and counts it
# in _errors (the script ends with a FATAL_ERROR when it is not 0).
set(_errors 0)
macro(fail msg)
  message(SEND_ERROR "${msg}")
  math(EXPR _errors "${_errors} + 1")
endmacro()

# nethttp_check_sections(FILE STRIPPED MAX_BYTES): checks an installed
# library with readelf (READELF), counting problems with fail() (a macro
# too, so that the count reaches the script):
#  - STRIPPED true: no .debug_* sections, and for a shared library no .symtab
#    either (a static library keeps its symbol table: linkers need it);
#    STRIPPED false: .debug_* sections present;
#  - never LLVM bitcode (.llvmbc), whatever STRIPPED says;
#  - MAX_BYTES other than 0: the file is smaller.
macro(nethttp_check_sections file stripped max_bytes)
  execute_process(COMMAND "${READELF}" -S -W "${file}" OUTPUT_VARIABLE _sections RESULT_VARIABLE _rc)
  get_filename_component(_name "${file}" NAME)
  if(NOT _rc EQUAL 0)
    fail("${READELF} -S ${file} failed")
  else()
    file(SIZE "${file}" _size)
    set(_has_debug OFF)
    if(_sections MATCHES " \\.debug_")
      set(_has_debug ON)
    endif()
    set(_state "with debug information")
    if(${stripped})
      set(_state "stripped")
      if(_has_debug)
        fail("${_name} still has debug information")
      endif()
      if(_name MATCHES "\\.so" AND _sections MATCHES " \\.symtab ")
        fail("${_name} still has a symbol table (.symtab)")
      endif()
    elseif(NOT _has_debug)
      fail("${_name} has no debug information")
    endif()
    if(_sections MATCHES " \\.llvmbc ")
      fail("${_name} carries LLVM bitcode (.llvmbc)")
    endif()
    if(${max_bytes} GREATER 0 AND NOT _size LESS ${max_bytes})
      fail("${_name} has ${_size} bytes, expected fewer than ${max_bytes}")
    endif()
    message("${_name}: ${_size} bytes, ${_state}")
  endif()
endmacro()

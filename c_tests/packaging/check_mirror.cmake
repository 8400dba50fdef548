# Checks that a code block of the README mirrors a file of the project:
#   cmake -DBLOCK=block.txt -DFILE=path -P check_mirror.cmake
# Every non-empty line of the block, without its surrounding spaces, must be
# a line of FILE (surrounding spaces ignored too).
cmake_minimum_required(VERSION 3.16)
file(STRINGS "${FILE}" _file_lines)
list(TRANSFORM _file_lines STRIP)
file(STRINGS "${BLOCK}" _block_lines)
set(_missing 0)
foreach(_line IN LISTS _block_lines)
  string(STRIP "${_line}" _line)
  if(_line STREQUAL "")
    continue()
  endif()
  list(FIND _file_lines "${_line}" _at)
  if(_at EQUAL -1)
    message(SEND_ERROR "README line not in ${FILE}: ${_line}")
    math(EXPR _missing "${_missing} + 1")
  endif()
endforeach()
if(_missing GREATER 0)
  message(FATAL_ERROR "the README's block no longer mirrors ${FILE}")
endif()
message("the README's block mirrors ${FILE}")

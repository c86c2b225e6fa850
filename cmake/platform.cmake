# platform.cmake - the loop backend choice, the POSIX compatibility layer
# (src/compat/), and the Windows cross build of the sans-I/O core. Included
# by the top-level CMakeLists.txt once the wsc, wsc_proto and wsc_cli
# targets exist.

include(CheckIncludeFile)

set(WSC_LOOP_BACKEND auto CACHE STRING
    "Default event-loop backend: auto (epoll where it exists, else poll), epoll, poll (epoll not compiled in)")
set_property(CACHE WSC_LOOP_BACKEND PROPERTY STRINGS auto epoll poll)
check_include_file(sys/epoll.h WSC_HAVE_SYS_EPOLL_H)
if(WSC_LOOP_BACKEND STREQUAL "epoll" AND NOT WSC_HAVE_SYS_EPOLL_H)
  message(FATAL_ERROR "WSC_LOOP_BACKEND=epoll but this system has no <sys/epoll.h>")
elseif(WSC_LOOP_BACKEND STREQUAL "poll")
  target_compile_definitions(wsc_lib_objs PRIVATE WSC_LOOP_NO_EPOLL=1)
elseif(NOT WSC_LOOP_BACKEND MATCHES "^(auto|epoll)$")
  message(FATAL_ERROR "WSC_LOOP_BACKEND must be auto, epoll or poll (got '${WSC_LOOP_BACKEND}')")
endif()
# Whether the build has the epoll backend at all (the poll-labelled test runs
# force poll at run time, so they need it only to be the non-default one).
if(WSC_HAVE_SYS_EPOLL_H AND NOT WSC_LOOP_BACKEND STREQUAL "poll")
  set(WSC_LOOP_HAS_EPOLL ON)
else()
  set(WSC_LOOP_HAS_EPOLL OFF)
endif()
message(STATUS "wsc: loop backends: poll, epoll ${WSC_LOOP_HAS_EPOLL} (option WSC_LOOP_BACKEND=${WSC_LOOP_BACKEND})")

# The compatibility layer: compat.c in the library, compat_signal.c only in
# programs that turn signals into a descriptor (wsc serve).
target_sources(wsc_lib_objs PRIVATE ${PROJECT_SOURCE_DIR}/src/compat/compat.c)
if(TARGET wsc_cli)
  target_sources(wsc_cli PRIVATE ${PROJECT_SOURCE_DIR}/src/compat/compat_signal.c)
endif()

# The sans-I/O core for Windows (tests/windows/), cross-built with mingw-w64
# and its unit tests run under wine, in a build directory of its own so that
# the main build does not wait for it: one CTest test, when both tools are
# installed (scripts/bootstrap installs them).
if(WSC_TESTS AND NOT WIN32)
  find_program(WSC_MINGW_GCC x86_64-w64-mingw32-gcc)
  find_program(WSC_WINE64 NAMES wine64 wine PATHS /usr/lib/wine)
  if(WSC_MINGW_GCC AND WSC_WINE64)
    enable_testing()
    add_test(NAME windows.core
             COMMAND ${CMAKE_COMMAND} -DWSC_ROOT=${PROJECT_SOURCE_DIR}
                     -DWSC_WINDOWS_BUILD=${PROJECT_BINARY_DIR}/windows-core
                     -DWSC_WINE=${WSC_WINE64}
                     -P ${PROJECT_SOURCE_DIR}/cmake/windows_core_test.cmake)
    set_tests_properties(windows.core PROPERTIES TIMEOUT 900 LABELS windows)
  else()
    message(STATUS "wsc: no x86_64-w64-mingw32-gcc or wine64: the Windows core test is not registered")
  endif()
endif()

# Adapter examples (examples/adapters/), built when their library is there
# (and, as every example, not in a parent project's build unless asked for;
# the tests run them).
if(WSC_EXAMPLES OR WSC_TESTS)
  add_subdirectory(${PROJECT_SOURCE_DIR}/examples/adapters ${PROJECT_BINARY_DIR}/examples/adapters)
endif()

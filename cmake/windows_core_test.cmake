# windows_core_test.cmake - run by the main build's windows.core test:
# configures tests/windows (the sans-I/O core and its unit tests for
# Windows) in its own build directory with the mingw-w64 toolchain, builds
# it, and runs its tests under wine.
#   cmake -DWSC_ROOT=... -DWSC_WINDOWS_BUILD=... [-DWSC_WINE=...] -P this
#
# Wine starts a wineserver per prefix on first use; two test programs that
# start at the same moment on a fresh prefix race to create it, and the loser
# fails with "chdir to /tmp/wine-*/server-*: No such file or directory"
# (seen in CI under load). So the prefix is created first, by one wineboot;
# one wineserver is kept alive for the whole run (-p30: until 30 s after its
# last client, so a killed run leaves none behind), every test connects to
# it, and it is shut down (-k) at the end, pass or fail.
foreach(v WSC_ROOT WSC_WINDOWS_BUILD)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "windows_core_test.cmake: -D${v}= is required")
  endif()
endforeach()
function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "windows core: '${ARGN}' failed (${rc})")
  endif()
endfunction()
step(${CMAKE_COMMAND} -S ${WSC_ROOT}/tests/windows -B ${WSC_WINDOWS_BUILD}
     -DCMAKE_TOOLCHAIN_FILE=${WSC_ROOT}/cmake/mingw-w64.cmake)
step(${CMAKE_COMMAND} --build ${WSC_WINDOWS_BUILD} -j2)

# The same prefix tests/windows/CMakeLists.txt gives each test.
set(ENV{WINEPREFIX} ${WSC_WINDOWS_BUILD}/wineprefix)
set(ENV{WINEDEBUG} -all)
file(MAKE_DIRECTORY ${WSC_WINDOWS_BUILD}/wineprefix)
if(NOT WSC_WINE)
  find_program(WSC_WINE NAMES wine64 wine PATHS /usr/lib/wine)
endif()
find_program(WSC_WINESERVER NAMES wineserver wineserver64 PATHS /usr/lib/wine)
# The server detaches but keeps the descriptors it was started with: its
# output goes to a file, or execute_process would wait on the pipe for it.
if(WSC_WINESERVER)
  execute_process(COMMAND ${WSC_WINESERVER} -p30 RESULT_VARIABLE srv_rc
                  OUTPUT_FILE ${WSC_WINDOWS_BUILD}/wineserver.log
                  ERROR_FILE ${WSC_WINDOWS_BUILD}/wineserver.log)
  if(NOT srv_rc EQUAL 0)
    message(FATAL_ERROR "windows core: '${WSC_WINESERVER} -p30' failed (${srv_rc})")
  endif()
endif()
if(WSC_WINE)
  # Creates (or updates) the prefix while nothing else uses it.
  execute_process(COMMAND ${WSC_WINE} wineboot.exe -i RESULT_VARIABLE boot_rc
                  OUTPUT_FILE ${WSC_WINDOWS_BUILD}/wineboot.log
                  ERROR_FILE ${WSC_WINDOWS_BUILD}/wineboot.log)
  if(NOT boot_rc EQUAL 0)
    message(STATUS "windows core: wineboot -i exited ${boot_rc}; the tests will show whether the prefix works")
  endif()
endif()
execute_process(COMMAND ${CMAKE_CTEST_COMMAND} --test-dir ${WSC_WINDOWS_BUILD}
                        --output-on-failure -j2
                RESULT_VARIABLE test_rc)
if(WSC_WINESERVER)
  execute_process(COMMAND ${WSC_WINESERVER} -k OUTPUT_QUIET ERROR_QUIET)
endif()
if(NOT test_rc EQUAL 0)
  message(FATAL_ERROR "windows core: the tests under wine failed (${test_rc})")
endif()

# windows_core_test.cmake - run by the main build's windows.core test:
# configures tests/windows (the sans-I/O core and its unit tests for
# Windows) in its own build directory with the mingw-w64 toolchain, builds
# it, and runs its tests under wine. cmake -DWSC_ROOT=... -DWSC_WINDOWS_BUILD=... -P this
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
step(${CMAKE_CTEST_COMMAND} --test-dir ${WSC_WINDOWS_BUILD} --output-on-failure -j2)

# mingw-w64.cmake - CMake toolchain for Windows x86-64 with Debian's
# mingw-w64 (gcc-mingw-w64-x86-64, libz-mingw-w64-dev). Test programs run
# under wine (wine64) through CMAKE_CROSSCOMPILING_EMULATOR, so ctest works
# on the build machine:
#   cmake -S tests/windows -B build-windows -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64.cmake
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(WSC_MINGW_TRIPLE x86_64-w64-mingw32)

find_program(CMAKE_C_COMPILER ${WSC_MINGW_TRIPLE}-gcc REQUIRED)
find_program(CMAKE_RC_COMPILER ${WSC_MINGW_TRIPLE}-windres)
set(CMAKE_FIND_ROOT_PATH /usr/${WSC_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Debian installs the 64-bit loader as /usr/lib/wine/wine64 (not on PATH).
find_program(WSC_WINE NAMES wine64 wine PATHS /usr/lib/wine NO_CMAKE_FIND_ROOT_PATH)
if(WSC_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${WSC_WINE})
endif()

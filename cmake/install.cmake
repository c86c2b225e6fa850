# Install rules (included from the top-level CMakeLists.txt when WSC_INSTALL
# is ON): headers, libraries, pkg-config files, the CMake package
# (find_package(wsc) -> wsc::wsc, wsc::proto, and the _static variants when
# both kinds are built) and the wsc command. Man pages: docs/CMakeLists.txt.
include(CMakePackageConfigHelpers)

set(WSC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/wsc)
set(WSC_PKGCONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/wsc
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
        FILES_MATCHING PATTERN "*.h")

set(_wsc_install_targets)
if(WSC_BUILD_SHARED)
  list(APPEND _wsc_install_targets wsc_shared wsc_proto_shared)
endif()
if(WSC_BUILD_STATIC)
  list(APPEND _wsc_install_targets wsc wsc_proto)
endif()
install(TARGETS ${_wsc_install_targets} EXPORT wscTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib NAMELINK_COMPONENT dev
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT lib
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT wscTargets NAMESPACE wsc:: DESTINATION ${WSC_CMAKE_DIR} COMPONENT dev)

set(WSC_CONFIG_STATIC ${WSC_BUILD_STATIC})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/wscConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/wscConfig.cmake
                              INSTALL_DESTINATION ${WSC_CMAKE_DIR})
# Same major version, at least this minor: the promise the soname makes.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/wscConfigVersion.cmake
                                 COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/wscConfig.cmake ${PROJECT_BINARY_DIR}/wscConfigVersion.cmake
        DESTINATION ${WSC_CMAKE_DIR} COMPONENT dev)

# pkg-config files, relocatable: prefix is found from the .pc file's own
# place, so `cmake --install build --prefix P` and DESTDIR both work.
if(IS_ABSOLUTE ${WSC_PKGCONFIG_DIR})
  set(WSC_PC_PREFIX ${CMAKE_INSTALL_PREFIX})
else()
  file(RELATIVE_PATH _rel /prefix/${WSC_PKGCONFIG_DIR} /prefix)
  string(REGEX REPLACE "/$" "" _rel "${_rel}")
  set(WSC_PC_PREFIX "\${pcfiledir}/${_rel}")
endif()
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE ${CMAKE_INSTALL_${dir}})
    set(WSC_PC_${dir} ${CMAKE_INSTALL_${dir}})
  else()
    set(WSC_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
foreach(pc wsc wsc-proto)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in ${PROJECT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${pc}.pc DESTINATION ${WSC_PKGCONFIG_DIR} COMPONENT dev)
endforeach()

if(WSC_CLI)
  install(TARGETS wsc_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cli)
endif()


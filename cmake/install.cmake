# `cmake --install`: the library and its public header, the bdwgc-compatible headers, the
# preload library and libgc.so.1 in a private directory (so neither shadows the system's
# libgc nor is linked by accident), the wbrt tool, wbrt.pc / wbrt-gc.pc and a CMake package
# (find_package(wbrt): wbrt::wbrt, wbrt::wbrt_static).
# SPDX-License-Identifier: GPL-2.0-or-later
include(CMakePackageConfigHelpers)

set(WBRT_PRIVATE_LIBDIR ${CMAKE_INSTALL_LIBDIR}/wbrt)
set(WBRT_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/wbrt)

install(TARGETS wbrt wbrt_static EXPORT wbrtTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES runtime/wbrt.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/wbrt)
install(DIRECTORY runtime/include/wbrt-gc/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/wbrt-gc)
install(TARGETS wbrt_preload LIBRARY DESTINATION ${WBRT_PRIVATE_LIBDIR})
install(TARGETS wbrt_libgc LIBRARY DESTINATION ${WBRT_PRIVATE_LIBDIR}/gc-compat NAMELINK_SKIP)
install(TARGETS wbrt_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# `wbrt run` finds the private directory from its own location, wherever the prefix is.
file(RELATIVE_PATH WBRT_PRIVATE_FROM_BIN ${CMAKE_INSTALL_FULL_BINDIR}
     ${CMAKE_INSTALL_PREFIX}/${WBRT_PRIVATE_LIBDIR})
target_compile_definitions(wbrt_cli PRIVATE WBRT_PRIVATE_FROM_BIN="${WBRT_PRIVATE_FROM_BIN}")

# The .pc files name their prefix relative to where they are, so that a prefix given only
# at install time (cmake --install --prefix) is right too.
file(RELATIVE_PATH WBRT_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/wbrt.pc.in wbrt.pc @ONLY)
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/wbrt-gc.pc.in wbrt-gc.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/wbrt.pc ${CMAKE_CURRENT_BINARY_DIR}/wbrt-gc.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(EXPORT wbrtTargets NAMESPACE wbrt:: DESTINATION ${WBRT_CMAKEDIR})
configure_package_config_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/wbrtConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/wbrtConfig.cmake
                              INSTALL_DESTINATION ${WBRT_CMAKEDIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/wbrtConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/wbrtConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/wbrtConfigVersion.cmake
        DESTINATION ${WBRT_CMAKEDIR})

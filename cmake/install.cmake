# What `cmake --install` puts where, and the Debian packages CPack builds
# from it (`cpack -G DEB` in the build directory):
#   kaddr          the command, its man page, bash and zsh completion
#   libkaddr-dev   libkaddr.a, include/kaddr/*.h and kaddr.pc (pkg-config)
# The library is static: its API is young and has no ABI promise yet, so a
# shared libkaddr with a soname would promise what it cannot keep.

set_target_properties(kaddr_lib PROPERTIES OUTPUT_NAME kaddr)
target_include_directories(kaddr_lib INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

install(TARGETS kaddr RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)

# Debian installs man pages compressed (Policy 12.1).
set(KADDR_MAN_GZ ${CMAKE_CURRENT_BINARY_DIR}/kaddr.1.gz)
add_custom_command(OUTPUT ${KADDR_MAN_GZ}
  COMMAND gzip -9nc ${CMAKE_CURRENT_SOURCE_DIR}/man/kaddr.1 > ${KADDR_MAN_GZ}
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/man/kaddr.1
  COMMENT "Compressing the man page")
add_custom_target(kaddr_man ALL DEPENDS ${KADDR_MAN_GZ})
install(FILES ${KADDR_MAN_GZ} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT runtime)
install(FILES completion/kaddr.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME kaddr COMPONENT runtime)
install(FILES completion/_kaddr DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions COMPONENT runtime)
install(FILES schema/kaddr-record.schema.json DESTINATION ${CMAKE_INSTALL_DATADIR}/kaddr COMPONENT runtime)

install(TARGETS kaddr_lib ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development)
install(DIRECTORY include/kaddr DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT development
        FILES_MATCHING PATTERN "*.h")
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/include/kaddr/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kaddr COMPONENT development)
configure_file(cmake/kaddr.pc.in ${CMAKE_CURRENT_BINARY_DIR}/kaddr.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/kaddr.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT development)

set(CPACK_PACKAGE_NAME kaddr)
set(CPACK_PACKAGE_VENDOR "kaddr developers")
set(CPACK_PACKAGE_CONTACT "kaddr developers <kaddr@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "offline Linux kernel address and crash analyser")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_GENERATOR DEB)
set(CPACK_STRIP_FILES ON)  # debug info stays in the build tree, as a -dbgsym package would hold it
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime development)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # kaddr_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME kaddr)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION utils)
# Runtime dependencies from the binary's own ELF needs (libc6, libdw1,
# libelf1, zlib1g, liblzma5, libzstd1, and libstdc++6 and
# libboost-program-options when linked shared), as dpkg-shlibdeps finds them.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
# libdebuginfod, Capstone and libkdumpfile are loaded on demand (dlopen):
# shlibdeps cannot see them.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "libdebuginfod1, libcapstone4, libkdumpfile10")
# A minimal Debian has no man: recommended, so apt installs it by default.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_RECOMMENDS "man-db, bash-completion")
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "offline Linux kernel address and crash analyser
 kaddr turns kernel addresses and func+0x1d/0x40 [mod] frames into region,
 module, section, symbol, source line and inline chain, from vmlinux, the
 modules' debug files and captures of a running system; it explains whole
 crash reports (oops, WARN, BUG, KASAN, lockdep, ...) as text, JSON or in
 decode_stacktrace.sh's layout.")
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME libkaddr-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS
    "libdw-dev, libelf-dev, liblzma-dev, zlib1g-dev, libzstd-dev, libxxhash-dev, nlohmann-json3-dev")
set(CPACK_DEBIAN_DEVELOPMENT_DESCRIPTION "kaddr's library: kernel address resolution and crash reports
 The static library, headers and pkg-config file (kaddr.pc) of kaddr, for
 tools that resolve kernel addresses or explain crash reports themselves.")
include(CPack)

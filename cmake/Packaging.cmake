# Debian package `floatlb` (CPack DEB): the daemon, floatctl, the systemd unit, /etc/default/floatlb
# and the docs (operations guide, least-privilege IAM policy). Included last from the top-level
# CMakeLists.txt, after every target exists.
#
#   cmake --build build && (cd build && cpack -G DEB)   # -> build/floatlb_<version>_<arch>.deb
#   sudo dpkg -i build/floatlb_*.deb                     # tests/package/deb.sh does this and removes it
include(GNUInstallDirs)

install(TARGETS floatlb RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS floatctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_SOURCE_DIR}/deploy/floatlb.service DESTINATION /lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/floatlb.default DESTINATION /etc/default RENAME floatlb)
install(DIRECTORY DESTINATION /etc/floatlb)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/iam-policy.json ${CMAKE_SOURCE_DIR}/deploy/README.md
              ${CMAKE_SOURCE_DIR}/docs/operations.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME floatlb)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "floatlb maintainers <floatlb@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "eBPF L4 load balancer with HA and multi-AZ AWS failover")
set(CPACK_PACKAGE_DESCRIPTION
    "floatlb is a tc/eBPF layer-4 load balancer with a loxilb-compatible REST API (floatctl), an HA pair\nwith connection sync and, on AWS, a multi-AZ takeover of the VIP subnet and the Elastic IP.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends: from the binaries' shared libraries (dpkg-shlibdeps)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "iproute2")
# /etc/default/floatlb is a conffile (kept on upgrade and remove, asked about when both changed);
# the maintainer scripts reload systemd and restart a running service after an upgrade.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/cmake/deb/conffiles ${CMAKE_SOURCE_DIR}/cmake/deb/postinst
    ${CMAKE_SOURCE_DIR}/cmake/deb/prerm ${CMAKE_SOURCE_DIR}/cmake/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)  # RelWithDebInfo binaries: no debug info in the package
include(CPack)
add_subdirectory(${CMAKE_SOURCE_DIR}/tests/package ${CMAKE_BINARY_DIR}/tests/package)

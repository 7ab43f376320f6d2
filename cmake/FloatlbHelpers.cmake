# floatlb_add_test(NAME name SOURCES ... LIBS ... LABEL unit|bpf|netns|e2e [ROOT])
# Registers a GoogleTest binary with ctest. ROOT tests exit with code 77 (ctest SKIP) when not
# run as root; use FLOATLB_REQUIRE_ROOT() from tests/support/root.h inside them.
function(floatlb_add_test)
  cmake_parse_arguments(T "ROOT" "NAME;LABEL;TIMEOUT" "SOURCES;LIBS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main floatlb_warnings)
  target_include_directories(${T_NAME} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  set_target_properties(${T_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  # A GTEST_SKIP() inside a passing binary is a skip too (ctest would otherwise report "Passed"),
  # so scripts/test.sh can fail a root run that skipped anything.
  set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABEL}" TIMEOUT ${T_TIMEOUT} SKIP_RETURN_CODE 77
    SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
endfunction()

# floatlb_add_script_test(NAME name COMMAND script args... LABEL netns|e2e [TIMEOUT s])
# A shell/python test that builds its own namespaces; exits 77 to SKIP (e.g. not root).
function(floatlb_add_script_test)
  cmake_parse_arguments(T "" "NAME;LABEL;TIMEOUT" "COMMAND" ${ARGN})
  add_test(NAME ${T_NAME} COMMAND ${T_COMMAND})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABEL}" TIMEOUT ${T_TIMEOUT} SKIP_RETURN_CODE 77
    ENVIRONMENT "FLOATLB_BUILD=${CMAKE_BINARY_DIR};FLOATLB_SRC=${CMAKE_SOURCE_DIR}")
endfunction()

# floatlb_bpf_object(NAME name SOURCE file.bpf.c [DEPENDS headers...])
# Compiles a BPF C program with clang -target bpf, generates <name>.skel.h with bpftool and
# exposes an INTERFACE target <name>_skel whose include dir holds the skeleton.
function(floatlb_bpf_object)
  cmake_parse_arguments(B "" "NAME;SOURCE" "DEPENDS" ${ARGN})
  set(out_dir ${CMAKE_BINARY_DIR}/bpf)
  set(vmlinux ${out_dir}/vmlinux.h)
  if(NOT TARGET floatlb_vmlinux_h)
    add_custom_command(OUTPUT ${vmlinux}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
      COMMAND sh -c "bpftool btf dump file /sys/kernel/btf/vmlinux format c > ${vmlinux}"
      COMMENT "Generating vmlinux.h from the running kernel's BTF"
      VERBATIM)
    add_custom_target(floatlb_vmlinux_h DEPENDS ${vmlinux})
  endif()
  set(obj ${out_dir}/${B_NAME}.bpf.o)
  set(skel ${out_dir}/${B_NAME}.skel.h)
  add_custom_command(OUTPUT ${obj}
    COMMAND clang -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Wall -Werror
            -I${out_dir} -I${CMAKE_SOURCE_DIR}/bpf/include
            -c ${CMAKE_CURRENT_SOURCE_DIR}/${B_SOURCE} -o ${obj}
    COMMAND llvm-strip -g ${obj}
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${B_SOURCE} ${B_DEPENDS} ${vmlinux}
    COMMENT "BPF ${B_NAME}.bpf.o"
    VERBATIM)
  add_custom_command(OUTPUT ${skel}
    COMMAND sh -c "bpftool gen skeleton ${obj} name ${B_NAME} > ${skel}"
    DEPENDS ${obj}
    COMMENT "BPF skeleton ${B_NAME}.skel.h"
    VERBATIM)
  add_custom_target(${B_NAME}_skel_gen DEPENDS ${skel})
  add_library(${B_NAME}_skel INTERFACE)
  add_dependencies(${B_NAME}_skel ${B_NAME}_skel_gen)
  target_include_directories(${B_NAME}_skel INTERFACE ${out_dir} ${CMAKE_SOURCE_DIR}/bpf/include)
  target_link_libraries(${B_NAME}_skel INTERFACE PkgConfig::LIBBPF)
endfunction()

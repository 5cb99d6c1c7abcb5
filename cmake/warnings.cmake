# memsoak_warnings: the warning flags of memsoak's own code, as an INTERFACE target that each of
# memsoak's targets links PRIVATE (so the flags reach neither the targets that link them nor any
# dependency, all of which come from the system). memsoak_check_warnings() fails the configure
# step if a target that compiles code was left without it.
add_library(memsoak_warnings INTERFACE)
target_compile_options(memsoak_warnings INTERFACE -Wall -Wextra -Wconversion -Wsign-conversion -Wshadow -Werror)

function(memsoak_check_warnings dir)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(type MATCHES "^(EXECUTABLE|STATIC_LIBRARY|SHARED_LIBRARY|MODULE_LIBRARY|OBJECT_LIBRARY)$")
      get_target_property(libraries ${target} LINK_LIBRARIES)
      if(NOT "memsoak_warnings" IN_LIST libraries)
        message(FATAL_ERROR "${target} does not link memsoak_warnings (cmake/warnings.cmake)")
      endif()
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(subdir IN LISTS subdirs)
    memsoak_check_warnings(${subdir})
  endforeach()
endfunction()

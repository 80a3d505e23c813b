# WAMR's platform layer for a bare-metal Cortex-M (SHARED_PLATFORM_CONFIG).
set (PLATFORM_SHARED_DIR ${CMAKE_CURRENT_LIST_DIR})
add_definitions (-DBH_PLATFORM_QFIRM_BARE)
include_directories (${PLATFORM_SHARED_DIR})
include_directories (${SHARED_DIR}/platform/include)
set (PLATFORM_SHARED_SOURCE ${PLATFORM_SHARED_DIR}/platform.c)

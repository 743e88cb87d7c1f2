// The rigs' interpreter on a PC: the MicroPython v1.15 unix port configured as the ESP8266 port
// of v1.15 (ports/esp8266/mpconfigport.h with boards/GENERIC/mpconfigboard.h), so that device
// code that the ESP cannot run fails here too. Built by tools/mp115/build.sh with
// MICROPY_FORCE_32BIT=1 (32-bit objects, as on the Xtensa).
//
// MICROPY_UNIX_MINIMAL makes ports/unix/mpconfigport.h skip its own feature list, which turns
// on much that the ESP8266 leaves out (str.partition, __setattr__, sys.exc_info, function
// attributes, cmath, md5, ...). Everything is set here instead: first the ESP8266's choices,
// then what the unix port itself needs to build and run. Where the two cannot match, the
// line says so.
#define MICROPY_UNIX_MINIMAL (1)

#include <stdint.h>

// ---- as ports/esp8266/mpconfigport.h and boards/GENERIC/mpconfigboard.h ----
#define MICROPY_OBJ_REPR            (MICROPY_OBJ_REPR_C)
#define MICROPY_GC_STACK_ENTRY_TYPE uint16_t
#define MICROPY_ALLOC_LEXER_INDENT_INIT (8)
#define MICROPY_ALLOC_PARSE_RULE_INIT   (48)
#define MICROPY_ALLOC_PARSE_RULE_INC    (8)
#define MICROPY_ALLOC_PARSE_RESULT_INC  (8)
#define MICROPY_ALLOC_PARSE_CHUNK_INIT  (64)
#define MICROPY_PERSISTENT_CODE_LOAD (1)
// The Xtensa emitters, as on the board: the .mpy files mpy-cross -march=xtensa writes carry
// that architecture in their header and load only where it is known. Nothing here emits or
// runs native code: the rig's code is bytecode.
#define MICROPY_EMIT_XTENSA         (1)
#define MICROPY_EMIT_INLINE_XTENSA  (1)
#define MICROPY_MEM_STATS           (0)
#define MICROPY_DEBUG_PRINTERS      (1)
#define MICROPY_ENABLE_GC           (1)
#define MICROPY_ENABLE_FINALISER    (1)
#define MICROPY_STACK_CHECK         (1)
#define MICROPY_ENABLE_EMERGENCY_EXCEPTION_BUF (1)
#define MICROPY_KBD_EXCEPTION       (1)
#define MICROPY_REPL_EVENT_DRIVEN   (0)
#define MICROPY_REPL_AUTO_INDENT    (1)
#define MICROPY_HELPER_REPL         (1)
#define MICROPY_ENABLE_SOURCE_LINE  (1)
#define MICROPY_MODULE_BUILTIN_INIT (1)
#define MICROPY_MODULE_WEAK_LINKS   (1)
#define MICROPY_CAN_OVERRIDE_BUILTINS (1)
#define MICROPY_ENABLE_SCHEDULER    (1)
#define MICROPY_PY_DESCRIPTORS      (1)
#define MICROPY_PY_BUILTINS_COMPLEX (0)
#define MICROPY_PY_BUILTINS_STR_UNICODE (1)
#define MICROPY_PY_BUILTINS_BYTEARRAY (1)
#define MICROPY_PY_BUILTINS_MEMORYVIEW (1)
#define MICROPY_PY_BUILTINS_FROZENSET (1)
#define MICROPY_PY_BUILTINS_SET     (1)
#define MICROPY_PY_BUILTINS_SLICE   (1)
#define MICROPY_PY_BUILTINS_SLICE_ATTRS (1)
#define MICROPY_PY_BUILTINS_PROPERTY (1)
#define MICROPY_PY_BUILTINS_ROUND_INT (1)
#define MICROPY_PY_BUILTINS_INPUT   (1)
#define MICROPY_PY_BUILTINS_HELP    (1)
#define MICROPY_PY_BUILTINS_HELP_MODULES (1)
#define MICROPY_PY___FILE__         (0)
#define MICROPY_PY_GC               (1)
#define MICROPY_PY_ARRAY            (1)
#define MICROPY_PY_ARRAY_SLICE_ASSIGN (1)
#define MICROPY_PY_ALL_SPECIAL_METHODS (1)
#define MICROPY_PY_COLLECTIONS      (1)
#define MICROPY_PY_COLLECTIONS_DEQUE (1)
#define MICROPY_PY_COLLECTIONS_ORDEREDDICT (1)
#define MICROPY_PY_MATH             (1)
#define MICROPY_PY_CMATH            (0)
#define MICROPY_PY_IO               (1)
#define MICROPY_PY_IO_IOBASE        (1)
#define MICROPY_PY_IO_FILEIO        (1)
#define MICROPY_PY_STRUCT           (1)
#define MICROPY_PY_SYS              (1)
#define MICROPY_PY_SYS_MAXSIZE      (1)
#define MICROPY_PY_SYS_EXIT         (1)
#define MICROPY_PY_SYS_STDFILES     (1)
#define MICROPY_PY_SYS_STDIO_BUFFER (1)
#define MICROPY_PY_UERRNO           (1)
#define MICROPY_PY_UBINASCII        (1)
#define MICROPY_PY_UCTYPES          (1)
#define MICROPY_PY_UHASHLIB         (1)
#define MICROPY_PY_UHASHLIB_SHA1    (MICROPY_PY_USSL && MICROPY_SSL_AXTLS)  // from axTLS, as there
#define MICROPY_PY_UCRYPTOLIB       (1)
#define MICROPY_PY_UHEAPQ           (1)
#define MICROPY_PY_UTIMEQ           (1)
#define MICROPY_PY_UJSON            (1)
#define MICROPY_PY_URANDOM          (1)
#define MICROPY_PY_URE              (1)
#define MICROPY_PY_URE_SUB          (1)
#define MICROPY_PY_UTIME_MP_HAL     (1)
#define MICROPY_PY_UZLIB            (1)
#define MICROPY_PY_MACHINE          (1)
#define MICROPY_PY_MACHINE_PULSE    (1)
#define MICROPY_PY_UWEBSOCKET       (1)
#define MICROPY_PY_WEBREPL          (1)
#define MICROPY_PY_WEBREPL_DELAY    (20)
#define MICROPY_PY_WEBREPL_STATIC_FILEBUF (1)
#define MICROPY_PY_MICROPYTHON_MEM_INFO (1)
#define MICROPY_PY_OS_DUPTERM       (2)
#define MICROPY_CPYTHON_COMPAT      (1)
#define MICROPY_LONGINT_IMPL        (MICROPY_LONGINT_IMPL_MPZ)
#define MICROPY_FLOAT_IMPL          (MICROPY_FLOAT_IMPL_FLOAT)
#define MICROPY_ERROR_REPORTING     (MICROPY_ERROR_REPORTING_NORMAL)
#define MICROPY_WARNINGS            (1)
#define MICROPY_PY_STR_BYTES_CMP_WARN (1)
#define MICROPY_STREAMS_NON_BLOCK   (1)
#define MICROPY_STREAMS_POSIX_API   (1)
#define MICROPY_VFS                 (1)
#define MICROPY_READER_VFS          (1)
// Left at py/mpconfig.h's default 0 by the ESP8266 port, on by default in the unix port:
// str.partition/rpartition, str.center, str.splitlines, __setattr__/__delattr__, function attributes,
// sys.exc_info, NotImplemented, 3-argument pow, slice.indices, reverse special methods
// (__radd__), math's special functions, compile(), sys.atexit, md5, crc32, and
// gc.collect()'s return value. Nothing below turns them on.

// ---- what differs from the board, and why ----
// framebuf (on the board) needs a font from ports/stm32, which the source copy leaves out.
// Files: the board mounts littlefs or FAT at /; here the host's files, as VfsPosix at /.
#define MICROPY_VFS_POSIX           (1)
#define MICROPY_PY_UOS_VFS          (1)
#define MICROPY_VFS_POSIX_FILE      (1)
#define mp_type_fileio mp_type_vfs_posix_fileio
#define mp_type_textio mp_type_vfs_posix_textio
#define mp_import_stat mp_vfs_import_stat
#define mp_builtin_open mp_vfs_open
#define mp_builtin_open_obj mp_vfs_open_obj
// Sockets: lwIP on the board, the host's sockets here (the project's socket fake adds lwIP's
// limit of 5 TCP connections). select.poll: the POSIX one here, with the same results.
#define MICROPY_PY_USELECT_POSIX    (1)
// errno: the board uses MicroPython's own numbers, which equal Linux's for every one the rig
// names (EAGAIN, ETIMEDOUT, ECONNRESET, ENOMEM, ...); here the host's.
#define MICROPY_USE_INTERNAL_ERRNO  (0)
// Paths: 128 bytes on the board; the host's PATH_MAX here, since test folders are deep. It is a
// buffer on the C stack, not on the heap.
#define MICROPY_ALLOC_PATH_MAX      (PATH_MAX)
#define MICROPY_PY_UTIME            (1)
#define MICROPY_PY_SYS_PLATFORM     "linux"
#define MICROPY_READER_POSIX        (1)
#define MICROPY_HELPER_LEXER_UNIX   (1)
#define MICROPY_USE_READLINE_HISTORY (1)
#define MICROPY_DEBUG_PRINTER       (&mp_stderr_print)
#define MICROPY_ERROR_PRINTER       (&mp_stderr_print)
#define MICROPY_ASYNC_KBD_INTR      (1)  // Ctrl-C arrives as a signal here, from the UART there
#define MICROPY_EPOCH_IS_1970       (1)
#define MICROPY_PLAT_DEV_MEM        (1)
#define MICROPY_SELECT_REMAINING_TIME (1)
#define MICROPY_MACHINE_MEM_GET_READ_ADDR   mod_machine_mem_get_addr
#define MICROPY_MACHINE_MEM_GET_WRITE_ADDR  mod_machine_mem_get_addr

// ---- the rest of ports/unix/mpconfigport.h, unchanged ----
#if !(defined(MICROPY_GCREGS_SETJMP) || defined(__x86_64__) || defined(__i386__) || defined(__thumb2__) || defined(__thumb__) || defined(__arm__))
#define MICROPY_GCREGS_SETJMP (1)
#endif

extern const struct _mp_print_t mp_stderr_print;
extern const struct _mp_obj_module_t mp_module_machine;
extern const struct _mp_obj_module_t mp_module_uos_vfs;
extern const struct _mp_obj_module_t mp_module_uselect;
extern const struct _mp_obj_module_t mp_module_time;
extern const struct _mp_obj_module_t mp_module_termios;
extern const struct _mp_obj_module_t mp_module_socket;

#if MICROPY_PY_TERMIOS
#define MICROPY_PY_TERMIOS_DEF { MP_ROM_QSTR(MP_QSTR_termios), MP_ROM_PTR(&mp_module_termios) },
#else
#define MICROPY_PY_TERMIOS_DEF
#endif
#if MICROPY_PY_SOCKET
#define MICROPY_PY_SOCKET_DEF { MP_ROM_QSTR(MP_QSTR_usocket), MP_ROM_PTR(&mp_module_socket) },
#else
#define MICROPY_PY_SOCKET_DEF
#endif

#define MICROPY_PORT_BUILTIN_MODULES \
    { MP_ROM_QSTR(MP_QSTR_utime), MP_ROM_PTR(&mp_module_time) }, \
    MICROPY_PY_SOCKET_DEF \
    { MP_ROM_QSTR(MP_QSTR_umachine), MP_ROM_PTR(&mp_module_machine) }, \
    { MP_ROM_QSTR(MP_QSTR_uos), MP_ROM_PTR(&mp_module_uos_vfs) }, \
    { MP_ROM_QSTR(MP_QSTR_uselect), MP_ROM_PTR(&mp_module_uselect) }, \
    MICROPY_PY_TERMIOS_DEF \

#include <unistd.h>
#include <limits.h>

typedef int mp_int_t; // must be pointer size: 32 bits, as on the Xtensa
typedef unsigned int mp_uint_t;
#if _FILE_OFFSET_BITS == 64 && !defined(__LP64__)
typedef long long mp_off_t;
#else
typedef long mp_off_t;
#endif

void mp_unix_alloc_exec(size_t min_size, void **ptr, size_t *size);
void mp_unix_free_exec(void *ptr, size_t size);
void mp_unix_mark_exec(void);
#define MP_PLAT_ALLOC_EXEC(min_size, ptr, size) mp_unix_alloc_exec(min_size, ptr, size)
#define MP_PLAT_FREE_EXEC(ptr, size) mp_unix_free_exec(ptr, size)
#define MICROPY_FORCE_PLAT_ALLOC_EXEC (1)

#define MICROPY_PORT_BUILTINS \
    { MP_ROM_QSTR(MP_QSTR_open), MP_ROM_PTR(&mp_builtin_open_obj) },

#define MP_STATE_PORT MP_STATE_VM

#define MICROPY_PORT_ROOT_POINTERS \
    const char *readline_hist[8]; \
    void *mmap_region_head; \

#include <alloca.h>

#ifndef _DIRENT_HAVE_D_TYPE
#define _DIRENT_HAVE_D_TYPE (1)
#endif
#ifndef _DIRENT_HAVE_D_INO
#define _DIRENT_HAVE_D_INO (1)
#endif

#include <stdio.h>

#define MICROPY_EVENT_POLL_HOOK \
    do { \
        extern void mp_handle_pending(bool); \
        mp_handle_pending(true); \
        mp_hal_delay_us(500); \
    } while (0);

#include <sched.h>
#define MICROPY_UNIX_MACHINE_IDLE sched_yield();

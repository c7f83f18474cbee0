/* syscall_stub.S: the shim's only syscall instruction, copied at start-up to a fixed page.
 *
 * long shim_stub(long number, long a1, long a2, long a3, long a4, long a5, long a6)
 *
 * The seccomp filter lets through every syscall whose instruction pointer lies in that page and
 * traps the intercepted ones everywhere else, so this is how the shim reaches the real kernel. The
 * code is position independent; shim_stub_install() copies [shim_stub_code_begin,
 * shim_stub_code_end) to SHIM_STUB_ADDRESS. Returns the raw kernel result (-errno on failure). */
        .section .text.moonshim_stub, "ax", @progbits
        .globl  shim_stub_code_begin
        .hidden shim_stub_code_begin
        .globl  shim_stub_code_end
        .hidden shim_stub_code_end
        .type   shim_stub_code_begin, @function
shim_stub_code_begin:
        movq    %rdi, %rax
        movq    %rsi, %rdi
        movq    %rdx, %rsi
        movq    %rcx, %rdx
        movq    %r8, %r10
        movq    %r9, %r8
        movq    8(%rsp), %r9
        syscall
        ret
shim_stub_code_end:
        .size   shim_stub_code_begin, shim_stub_code_end - shim_stub_code_begin
        .section .note.GNU-stack, "", @progbits

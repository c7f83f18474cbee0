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

/* void shim_signal_restorer(void): returns from a signal handler (rt_sigreturn). The kernel
 * needs SA_RESTORER on x86-64; glibc's own restorer is not exported, so the shim has its own.
 * rt_sigreturn is never trapped, so it may live in the library's text. */
        .text
        .globl  shim_signal_restorer
        .hidden shim_signal_restorer
        .type   shim_signal_restorer, @function
shim_signal_restorer:
        movq    $15, %rax
        syscall
        hlt
        .size   shim_signal_restorer, . - shim_signal_restorer
        .section .note.GNU-stack, "", @progbits

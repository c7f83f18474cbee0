/* clone_entry.S: where a thread or vfork child created by an emulated clone/clone3 starts.
 *
 * thread.c performs the real clone through the stub with the child's stack prepared so that the
 * stub's `ret` lands here, with %rsp pointing at a struct shim_clone_snapshot (16-byte aligned)
 * holding the registers the program had at its trapped clone. We call shim_clone_child_begin()
 * (register the thread, wait for the run baton), then restore those registers, set %rsp to the
 * stack the program asked for and %rax to 0, and jump to the instruction after the program's
 * syscall: from the program's point of view, clone returned 0 in the child. %rcx and %r11 are
 * clobbered by any syscall, so using them here is invisible to the program. */
        .text
        .globl  shim_clone_child_entry
        .hidden shim_clone_child_entry
        .type   shim_clone_child_entry, @function
shim_clone_child_entry:
        movq    %rsp, %rdi
        call    shim_clone_child_begin
        movq    16(%rsp), %rbx
        movq    24(%rsp), %rbp
        movq    32(%rsp), %r12
        movq    40(%rsp), %r13
        movq    48(%rsp), %r14
        movq    56(%rsp), %r15
        movq    64(%rsp), %rdi
        movq    72(%rsp), %rsi
        movq    80(%rsp), %rdx
        movq    88(%rsp), %r8
        movq    96(%rsp), %r9
        movq    104(%rsp), %r10
        movq    0(%rsp), %r11
        movq    %r11, %rcx
        movq    8(%rsp), %rsp
        xorl    %eax, %eax
        jmp     *%r11
        .size   shim_clone_child_entry, . - shim_clone_child_entry
        .section .note.GNU-stack, "", @progbits

"""cc_static_bundle: one static archive of C++ libraries, for consumers outside Bazel.

Bazel builds one archive per cc_library; a consumer linking with plain g++ wants one. The rule
collects the archives of `deps` and everything they depend on (their CcInfo linker inputs), and
joins them with `ar -M` (ADDLIB keeps every member, so object files that share a base name in
different packages, e.g. ops/embedding.o and nn/embedding.o, both survive). It prefers the PIC
archives, which Bazel builds anyway for the tests' shared libraries, so bundling compiles
nothing twice; PIC objects also link into the PIE executables Debian's g++ makes by default.

Outputs: lib<library>.a, and lib<library>.linkopts: the link flags the libraries declare
(-ltbb, -ldl, ...) on one line, for a pkg-config file. Its runfiles hold the archive, the
flags, and every header of `deps` at its path in the repository (autograd/tensor.h, ...), for
an install script.
"""

def _cc_static_bundle_impl(ctx):
    archives = []
    linkopts = []
    headers = []
    for dep in ctx.attr.deps:
        cc = dep[CcInfo]
        for linker_input in cc.linking_context.linker_inputs.to_list():
            for flag in linker_input.user_link_flags:
                if flag not in linkopts:
                    linkopts.append(flag)
            for lib in linker_input.libraries:
                archive = lib.pic_static_library or lib.static_library
                if archive and archive not in archives:
                    archives.append(archive)
        for h in cc.compilation_context.headers.to_list():
            if h not in headers:
                headers.append(h)

    out = ctx.actions.declare_file("lib%s.a" % ctx.attr.library)
    mri = ctx.actions.declare_file("lib%s.mri" % ctx.attr.library)
    ctx.actions.write(
        mri,
        "CREATE %s\n" % out.path +
        "".join(["ADDLIB %s\n" % a.path for a in archives]) +
        "SAVE\nEND\n",
    )
    ctx.actions.run_shell(
        inputs = archives + [mri],
        outputs = [out],
        command = "ar -M < %s" % mri.path,
        mnemonic = "BundleArchives",
        progress_message = "Bundling %d archives into %s" % (len(archives), out.short_path),
    )
    flags = ctx.actions.declare_file("lib%s.linkopts" % ctx.attr.library)
    ctx.actions.write(flags, " ".join(linkopts) + "\n")
    return [DefaultInfo(
        files = depset([out, flags]),
        runfiles = ctx.runfiles(files = [out, flags] + headers),
    )]

cc_static_bundle = rule(
    implementation = _cc_static_bundle_impl,
    attrs = {
        "deps": attr.label_list(providers = [CcInfo]),
        "library": attr.string(mandatory = True, doc = "archive name: lib<library>.a"),
    },
)

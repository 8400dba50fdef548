"""Conan 2 recipe for nethttp: `conan create .` builds the package from this
checkout with nethttp's own CMake build (which runs cargo) and tests it with
test_package/. scripts/packaging.sh --conan does that for both options.

Not managed by Conan, and needed on the build machine: a Rust toolchain
(cargo, 1.80 or newer) and, with the default libcurl, libcurl's development
files (Debian: libcurl4-openssl-dev, declared below as a system requirement;
`-c tools.system.package_manager:mode=install` lets Conan install it).
Option bundled_curl=True builds libcurl into nethttp instead (no brotli, no
zstd): README.md, "Choosing libcurl".
"""
import os
import re

from conan import ConanFile
from conan.tools.cmake import CMake, CMakeToolchain, cmake_layout
from conan.tools.files import copy, load, rm
from conan.tools.system.package_manager import Apt


class NethttpConan(ConanFile):
    name = "nethttp"
    description = "Asynchronous HTTP requests for C and C++, driven by libcurl"
    license = "MIT"
    topics = ("http", "libcurl", "async", "c")
    package_type = "library"
    settings = "os", "arch", "compiler", "build_type"
    options = {"shared": [True, False], "bundled_curl": [True, False]}
    default_options = {"shared": True, "bundled_curl": False}
    # vendor/ is there only after scripts/vendor.sh: the build is then offline.
    exports_sources = ("CMakeLists.txt", "Cargo.toml", "Cargo.lock", "build.rs", "cbindgen.toml",
                       "cmake/*", "include/*", "src/*", "vendor/*")

    def set_version(self):
        text = load(self, os.path.join(self.recipe_folder, "Cargo.toml"))
        self.version = re.search(r'^version = "([0-9.]+)"', text, re.M).group(1)

    def configure(self):
        # A C library: the C++ settings do not change the binary.
        self.settings.rm_safe("compiler.libcxx")
        self.settings.rm_safe("compiler.cppstd")

    def layout(self):
        cmake_layout(self)

    def system_requirements(self):
        if not self.options.bundled_curl:
            Apt(self).install(["libcurl4-openssl-dev"])

    def generate(self):
        tc = CMakeToolchain(self)
        tc.cache_variables["NETHTTP_BUNDLED_CURL"] = bool(self.options.bundled_curl)
        tc.cache_variables["NETHTTP_BUILD_TESTS"] = False
        tc.cache_variables["NETHTTP_BUILD_EXAMPLES"] = False
        tc.cache_variables["NETHTTP_INSTALL"] = True
        tc.generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        copy(self, "LICENSE*", self.source_folder, os.path.join(self.package_folder, "licenses"))
        cmake = CMake(self)
        cmake.install()
        lib = os.path.join(self.package_folder, "lib")
        # Conan's own CMakeDeps and PkgConfigDeps files describe the package.
        rm(self, "*", os.path.join(lib, "cmake"), recursive=True)
        rm(self, "*", os.path.join(lib, "pkgconfig"), recursive=True)
        if self.options.shared:
            rm(self, "*.a", lib)
        else:
            rm(self, "*.so*", lib)
        # What the static library needs, as rustc reported it when it built
        # the library.
        native = load(self, os.path.join(self.build_folder, "cargo", "release", "native-static-libs.txt"))
        native = re.sub(r"^.*native-static-libs: *", "", native.strip())
        with open(os.path.join(self.package_folder, "lib", "nethttp-native-libs.txt"), "w") as out:
            out.write(native + "\n")

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "nethttp")
        self.cpp_info.set_property("cmake_target_name", "nethttp::nethttp")
        self.cpp_info.set_property("pkg_config_name", "nethttp")
        self.cpp_info.libs = ["nethttp"]
        if not self.options.shared:
            native = load(self, os.path.join(self.package_folder, "lib", "nethttp-native-libs.txt")).split()
            self.cpp_info.system_libs = [flag[2:] for flag in native if flag.startswith("-l")]

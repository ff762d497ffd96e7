cmd_Release/obj.target/spatial_reward_dds/src/qos.o := g++ -o Release/obj.target/spatial_reward_dds/src/qos.o ../src/qos.cc '-DNODE_GYP_MODULE_NAME=spatial_reward_dds' '-DUSING_UV_SHARED=1' '-DUSING_V8_SHARED=1' '-DV8_DEPRECATION_WARNINGS=1' '-D_GLIBCXX_USE_CXX11_ABI=1' '-D_FILE_OFFSET_BITS=64' '-D_LARGEFILE_SOURCE' '-D__STDC_FORMAT_MACROS' '-DOPENSSL_NO_PINSHARED' '-DOPENSSL_THREADS' '-DNAPI_VERSION=8' '-DNAPI_CPP_EXCEPTIONS' '-DBUILDING_NODE_EXTENSION' -I/usr/include/node -I/usr/src -I/usr/deps/openssl/config -I/usr/deps/openssl/openssl/include -I/usr/deps/uv/include -I/usr/deps/zlib -I/usr/deps/v8/include -I../../node_modules/node-addon-api -I/usr/include  -fPIC -pthread -Wall -Wextra -Wno-unused-parameter -Wall -Wextra -Wno-unused-parameter -m64 -O3 -fno-omit-frame-pointer -fno-rtti -std=gnu++17 -std=c++17 -Wall -Wextra -Wno-unused-parameter -MMD -MF ./Release/.deps/Release/obj.target/spatial_reward_dds/src/qos.o.d.raw   -c
Release/obj.target/spatial_reward_dds/src/qos.o: ../src/qos.cc \
 ../src/qos.h ../../node_modules/node-addon-api/napi.h \
 /usr/include/node/node_api.h /usr/include/node/js_native_api.h \
 /usr/include/node/js_native_api_types.h \
 /usr/include/node/node_api_types.h \
 ../../node_modules/node-addon-api/napi-inl.h \
 ../../node_modules/node-addon-api/napi.h \
 ../../node_modules/node-addon-api/napi-inl.deprecated.h
../src/qos.cc:
../src/qos.h:
../../node_modules/node-addon-api/napi.h:
/usr/include/node/node_api.h:
/usr/include/node/js_native_api.h:
/usr/include/node/js_native_api_types.h:
/usr/include/node/node_api_types.h:
../../node_modules/node-addon-api/napi-inl.h:
../../node_modules/node-addon-api/napi.h:
../../node_modules/node-addon-api/napi-inl.deprecated.h:

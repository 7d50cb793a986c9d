# shellcheck shell=bash
# The node's PKI, sourced by hack/cluster.sh: one CA, a certificate per component (ECDSA P-256,
# ten years: the node is thrown away long before), the service-account key pair and a
# kubeconfig per client. Written once per node into $CLUSTER_DIR/pki and $CLUSTER_DIR/etc.

# pki_key writes a P-256 private key.
pki_key() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
  chmod 600 "$1"
}

# pki_ca name subject: a self-signed CA.
pki_ca() {
  local dir="$CLUSTER_DIR/pki"
  pki_key "$dir/$1.key"
  openssl req -x509 -new -key "$dir/$1.key" -subj "$2" -days 3650 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/$1.crt"
}

# pki_cert name subject [subjectAltName [ca]]: a certificate signed by the CA (default "ca");
# with a SAN it serves and is a client, without one it is a client only.
pki_cert() {
  local name="$1" subject="$2" san="${3:-}" ca="${4:-ca}" dir="$CLUSTER_DIR/pki"
  pki_key "$dir/$name.key"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    if [[ -n "$san" ]]; then
      echo "extendedKeyUsage=serverAuth,clientAuth"
      echo "subjectAltName=$san"
    else
      echo "extendedKeyUsage=clientAuth"
    fi
  } > "$dir/$name.ext"
  openssl req -new -key "$dir/$name.key" -subj "$subject" -out "$dir/$name.csr"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.crt" -CAkey "$dir/$ca.key" \
    -CAcreateserial -days 3650 -sha256 -extfile "$dir/$name.ext" -out "$dir/$name.crt" 2>/dev/null
  rm -f "$dir/$name.csr" "$dir/$name.ext"
}

# pki_kubeconfig name cert: a kubeconfig with the CA and the client certificate embedded, so it
# can be copied elsewhere on this machine.
pki_kubeconfig() {
  local name="$1" cert="$CLUSTER_DIR/pki/$2"
  cat > "$CLUSTER_DIR/etc/$name.kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: littleecom
  cluster:
    certificate-authority-data: $(base64 -w0 < "$CLUSTER_DIR/pki/ca.crt")
    server: https://$CLUSTER_NODE_IP:$CLUSTER_API_PORT
users:
- name: $name
  user:
    client-certificate-data: $(base64 -w0 < "$cert.crt")
    client-key-data: $(base64 -w0 < "$cert.key")
contexts:
- name: littleecom
  context:
    cluster: littleecom
    user: $name
current-context: littleecom
KUBECONFIG
  chmod 600 "$CLUSTER_DIR/etc/$name.kubeconfig"
}

# first_service_ip prints the first address of the service CIDR: the kubernetes Service's
# ClusterIP, which the API server's certificate must name.
first_service_ip() {
  local a b c d
  IFS=. read -r a b c d <<<"${CLUSTER_SERVICE_CIDR%/*}"
  echo "$a.$b.$c.$((d + 1))"
}

pki_generate() {
  local dir="$CLUSTER_DIR/pki"
  [[ -f "$dir/done" ]] && return 0
  mkdir -p "$dir" "$CLUSTER_DIR/etc"
  pki_ca ca "/CN=littleecom-node-ca"
  # The API server's front proxy (aggregation): its own CA, so that no cluster certificate
  # can pass for the proxy; kube-controller-manager and kube-scheduler read it too.
  pki_ca front-proxy-ca "/CN=littleecom-node-front-proxy-ca"
  pki_cert front-proxy-client "/CN=front-proxy-client" "" front-proxy-ca

  local kubernetes="DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
  kubernetes+=",DNS:kubernetes.default.svc.cluster.local"
  pki_cert apiserver "/CN=kube-apiserver" \
    "$kubernetes,DNS:localhost,IP:127.0.0.1,IP:$(first_service_ip),IP:$CLUSTER_NODE_IP"
  pki_cert apiserver-kubelet-client "/CN=kube-apiserver-kubelet-client"
  pki_cert kubelet-serving "/CN=$CLUSTER_NODE_NAME" \
    "DNS:$CLUSTER_NODE_NAME,DNS:localhost,IP:127.0.0.1,IP:$CLUSTER_NODE_IP"
  # The users the API server's bootstrap RBAC policy already knows.
  pki_cert kubelet "/O=system:nodes/CN=system:node:$CLUSTER_NODE_NAME"
  pki_cert kube-controller-manager "/CN=system:kube-controller-manager"
  pki_cert kube-scheduler "/CN=system:kube-scheduler"
  pki_cert kube-proxy "/CN=system:kube-proxy"
  pki_cert admin "/O=system:masters/CN=littleecom-admin"
  pki_key "$dir/sa.key"
  openssl pkey -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null

  local name
  for name in admin kubelet kube-controller-manager kube-scheduler kube-proxy; do
    pki_kubeconfig "$name" "$name"
  done
  touch "$dir/done"
}

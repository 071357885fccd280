{{<- /*
  example.application: the Argo CD Application of one component.
  Expects a dict with "Values" (the values) and "name" (a key of .Values.components).
*/ ->}}
{{<- define "example.application" ->}}
{{<- $component := index .Values.components .name ->}}
{{<- $repo := .Values.argocd.source.repo ->}}
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {{< .name | quote >}}
  namespace: {{< .Values.argocd.namespace | quote >}}
  labels:
    {{< tmpl.Exec "example.labels" .name >}}
spec:
  project: {{< .Values.argocd.project | quote >}}
  source:
    repoURL: {{< $repo.url | quote >}}
    targetRevision: {{< $repo.revision | quote >}}
    path: {{< path.Join $repo.path "manifests" .name | quote >}}
  destination:
    server: "https://kubernetes.default.svc"
    namespace: {{< $component.namespace | quote >}}
  syncPolicy:
    syncOptions:
      - CreateNamespace=true
{{<- end >}}

{{<- /* example.labels: the common labels of a component (one line, flow style) */ ->}}
{{<- define "example.labels" ->}}
app.example.org/component: {{< . | quote >}}
{{<- end >}}

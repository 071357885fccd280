{{<- /* example.image: "repository:tag" of an image value (a map with repository and tag) */ ->}}
{{<- define "example.image" ->}}
{{<- .repository >}}:{{< .tag | default "latest" >}}
{{<- end >}}
